"""The JSON HTTP API under ``/api/v1`` (issue 9): a Flask adapter over the domain services.

Modules, one job each: ``app`` (factory), ``registry`` (routes and their models), ``auth``
(Basic app passwords and bearer tokens), ``errors`` (the one error translator), ``paging``
(keyset cursors), ``fields`` (input types that can never reach the database malformed),
``openapi`` (the document, generated from the registry) and one module per resource.
"""
