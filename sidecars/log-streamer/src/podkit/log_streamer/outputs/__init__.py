"""Where records go: one module per output kind, each with its own batching and acknowledgement.

:mod:`.spec` parses ``--output`` values; :mod:`.base` is the contract every output follows;
:mod:`.stdout` and :mod:`.file` write lines; :mod:`.syslog` speaks RFC 5424 over TCP (RFC 6587
octet counting) and :mod:`.relp` speaks RELP with acknowledgements.
"""
