"""Stage 4, ship: spool -> ``POST /logs``, with retries, pauses and the dead-letter file.

Modules: ``uploader`` (feeder, workers, retry tasks), ``retry`` (the one retry rule and its
tenacity wiring), ``transport`` (the HTTP seam: aiohttp by default, httpx for HTTP/2),
``auth`` (the token, reloaded after an auth pause), ``urls`` (what an API URL may be).

May import: agent.state, agent.encode, agent.parse and below. Not agent.sources.
"""
