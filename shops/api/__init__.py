"""The HTTP API (contract: docs/API.md): ``views`` (one DRF view per operation, each making one
call into ``shops.pos``, ``shops.shoppers`` or ``shops.reporting``), ``inputs`` (the request
bodies, validated by pydantic), ``auth`` (terminal keys and staff tokens, and the refusal of the
wrong kind) and ``openapi`` (what the generated document adds: descriptions, examples)."""
