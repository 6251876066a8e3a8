"""A till's credentials: a terminal of a store and its key."""

from __future__ import annotations

from shops.models import Store, Terminal


def terminal_create(*, store: Store, name: str, training: bool = False) -> tuple[Terminal, str]:
    """A new terminal and its key (shown once; only its hash is kept); ``training``: a terminal
    for training cashiers, whose sales touch no quota, figure, audit or event."""
    key, prefix, key_hash = Terminal.new_key()
    terminal = Terminal.objects.create(
        store=store, name=name, key_prefix=prefix, key_hash=key_hash, training=training
    )
    return terminal, key
