"""The OpenAPI document and its human-readable page (plain HTML, no script: CSP-safe, no CDN)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, render_template_string, url_for
from markupsafe import Markup

from formflow.api.openapi import document
from formflow.api.routing import route
from formflow.text.catalogue import _, lazy

DOCS_TAG = lazy("Documentation")

DOCS = """<!doctype html>
<html lang="{{ 'en' if current_locale() == 'en' else 'zh-CN' }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ doc.info.title }} · OpenAPI</title>
<link rel="stylesheet" href="{{ css }}">
</head>
<body>
<main class="container api-docs">
<h1>{{ doc.info.title }} <small>v{{ doc.info.version }} · OpenAPI {{ doc.openapi }}</small></h1>
<p>{{ _('Machine-readable description: ') }}<a href="{{ spec_url }}">openapi.json</a> ·
<a href="{{ explorer_url }}">{{ _('Interactive explorer (sends real requests)') }}</a></p>
{% for para in doc.info.description.split("\\n\\n") %}<p>{{ para }}</p>{% endfor %}
<nav><h2>{{ _('Contents') }}</h2><ul>
{% for tag, ops in by_tag %}<li><a href="#tag-{{ loop.index }}">{{ tag }}</a>{{
  _('(%(n)s)', n=ops|length) }}</li>{% endfor %}
</ul></nav>
{% for tag, ops in by_tag %}
<section id="tag-{{ loop.index }}">
<h2>{{ tag }}</h2>
{% for op in ops %}
<article id="{{ op.operationId }}">
<h3><code>{{ op.method|upper }} {{ op.path }}</code></h3>
<p>{{ op.summary }}{% if not op.security %}{{ _('(no sign-in needed)') }}{% endif %}</p>
{% if op.description %}<p>{{ op.description }}</p>{% endif %}
{% if op.parameters %}<h4>{{ _('Parameters') }}</h4><ul>
{% for p in op.parameters %}<li><code>{{ p.name }}</code>{% if p.required %}{{
  _('(%(where)s, required)', where=p["in"]) }}{% else %}{{ _('(%(where)s)', where=p["in"]) }}{% endif %}
<code>{{ p.schema|tojson }}</code>{% if p.description %} — {{ p.description }}{% endif %}</li>{% endfor %}
</ul>{% endif %}
{% if op.requestBody %}<h4>{{ _('Request body') }}</h4>
{% for media, body in op.requestBody.content.items() %}<p><code>{{ media }}</code></p>
<pre>{{ body.schema|tojson(indent=2) }}</pre>{% endfor %}{% endif %}
<h4>{{ _('Responses') }}</h4><ul>
{% for status, r in op.responses.items() %}<li><strong>{{ status }}</strong> {{ r.description or r["$ref"] }}
{% for media, body in (r.content or {}).items() %}
<code>{{ media }}</code> <code>{{ body.schema|tojson }}</code>{% endfor %}
</li>{% endfor %}
</ul>
</article>
{% endfor %}
</section>
{% endfor %}
<section><h2>{{ _('Data structures') }}</h2>
{% for name, schema in doc.components.schemas.items() %}
<h3 id="schema-{{ name }}">{{ name }}</h3><pre>{{ schema|tojson(indent=2) }}</pre>
{% endfor %}
</section>
</main>
</body>
</html>
"""


@route("/openapi.json", "GET", summary=lazy("OpenAPI 3.1 document"), tags=[DOCS_TAG], auth=False, responses={200: None},
       document=False)
def openapi_json():
    body = json.dumps(document(), ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json")


@route("/docs", "GET", summary=lazy("API description page"), tags=[DOCS_TAG], auth=False, responses={200: None},
       document=False)
def docs():
    doc = document()
    components = {k: v for k, v in doc.get("components", {}).items()}
    resolved: dict[str, dict[str, Any]] = {k: v for k, v in components.get("responses", {}).items()}
    by_tag: dict[str, list[dict[str, Any]]] = {}
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            responses = {st: resolved.get(r["$ref"].rsplit("/", 1)[-1], r) if "$ref" in r else r
                         for st, r in op["responses"].items()}
            entry = {**op, "method": method, "path": path, "responses": responses}
            by_tag.setdefault(op["tags"][0] if op.get("tags") else _("Other"), []).append(entry)
    html = render_template_string(DOCS, doc=doc, by_tag=list(by_tag.items()),
                                  spec_url=url_for("api.meta_openapi_json"),
                                  explorer_url=url_for("api.meta_explorer"),
                                  css=url_for("static", filename="formflow.css"))
    return Response(html, mimetype="text/html")


# --------------------------------------------------------------------------- interactive explorer

#: The Swagger UI files we serve, from the flask-swagger-ui package's bundled dist (no CDN, no network).
EXPLORER_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
#: Swagger UI sets style attributes; scripts stay 'self' only.
EXPLORER_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
EXPLORER = """<!doctype html>
<html lang="{{ 'en' if current_locale() == 'en' else 'zh-CN' }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · {{ _('Explorer') }}</title>
<link rel="stylesheet" href="{{ css }}">
</head>
<body>
<p class="explorer-note"><a href="{{ docs }}">{{ _('API description (plain text)') }}</a> ·
{{ _('First call %(call)s for a token, then press Authorize and enter it.', call=call) }}</p>
<div id="explorer" data-spec="{{ spec }}"></div>
<script src="{{ bundle }}"></script>
<script src="{{ init }}"></script>
</body>
</html>
"""


def _explorer_dist():
    from pathlib import Path

    import flask_swagger_ui

    return Path(flask_swagger_ui.__file__).with_name("dist")


@route("/explorer", "GET", summary=lazy("Interactive explorer page"), tags=[DOCS_TAG], auth=False,
       responses={200: None}, document=False)
def explorer():
    html = render_template_string(
        EXPLORER, title=document()["info"]["title"],
        css=url_for("api.meta_explorer_asset", name="swagger-ui.css"),
        bundle=url_for("api.meta_explorer_asset", name="swagger-ui-bundle.js"),
        init=url_for("static", filename="api-explorer.js"),
        spec=url_for("api.meta_openapi_json"), docs=url_for("api.meta_docs"),
        call=Markup("<code>POST /tokens</code>"),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = EXPLORER_CSP
    return response


@route("/explorer/assets/<name>", "GET", summary=lazy("Interactive explorer assets"), tags=[DOCS_TAG], auth=False,
       responses={200: None}, document=False)
def explorer_asset(name: str):
    from formflow.api.errors import ApiError

    if name not in EXPLORER_ASSETS:
        raise ApiError(404)
    response = Response((_explorer_dist() / name).read_bytes(), mimetype=EXPLORER_ASSETS[name])
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
