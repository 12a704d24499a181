"""Compare two implementations: the suite's requests to both, every difference a client could notice.

A change can stay inside the contract and still break clients: a failure
code that moves, a message in another language, a new field, an edge input
that flips from refused to accepted, latency that doubles. ``compare`` sends
the same requests to a NEW and an OLD target (or re-sends a recorded run) and
diffs the answers request by request.

- :mod:`.requests`   the requests: the suite's own (cases, METH-1, QR, generated)
- :mod:`.recording`  a cassette as the OLD side: its requests re-sent, its answers diffed
- :mod:`.shape`      one answer as a client sees it, per-call values reduced to their type
- :mod:`.diff`       differences of two shapes, latency per request class, grouping
- :mod:`.runner`     sends to both sides through the suite's client, judges each answer
- :mod:`.summary`    compare.json (schema: compare.schema.json), the model the outputs render
- :mod:`.text`, :mod:`.html`   the terminal table and compare.html
- :mod:`.command`    the ``compare`` subcommand
"""
