"""The HTTP API: the OpenAI ``/v1/videos`` surface, our additions, and error envelopes.

Routes parse, call one service method and serialise; nothing else.
"""
