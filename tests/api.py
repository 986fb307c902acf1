"""Reading the JSON API's answers: a thread's tree comes as a streamed response."""

import json


def response_text(response):
    """The whole body of a response, streamed or not, as text."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode()


def get_json(client, url, loads=json.loads):
    """GET ``url`` and parse its body; ``loads`` for parsers of deep trees."""
    return loads(response_text(client.get(url)))
