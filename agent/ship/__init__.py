"""Stage 4, ship: spool -> ``POST /logs``, with retries, pauses and the dead-letter file.

Modules, one job each: ``uploader`` (the workers and their lifecycle, the public API),
``feeder`` (spool -> queue, bounded memory), ``sender`` (one attempt and a record's fate),
``retries`` (a retry task per failed record), ``gate`` (the pause/probe gate), ``report``
(metrics, status and throttled logs), ``options`` (UploaderOptions), ``retry`` (the one
retry rule and its tenacity wiring), ``transport`` (the HTTP seam and its ``Answer``:
aiohttp by default, httpx for HTTP/2), ``auth`` (the token, reloaded after an auth pause),
``urls`` (what an API URL may be), ``proxy`` (which proxy reaches the API: ``api.proxy``,
HTTPS_PROXY/NO_PROXY), ``tls`` (which CAs are trusted: system store plus ``api.ca_file``),
``connection_errors`` (failures naming host:port and the proxy). The errors are
agent.errors' ShipError tree.

May import: agent.state, agent.encode, agent.parse and below. Not agent.sources.
"""
