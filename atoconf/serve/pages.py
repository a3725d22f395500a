"""The HTML of the configurator: a list of the products, and each product's page (its
choices are built by static/page.js from the JSON API). Every asset is in the
package: the page works offline."""

from __future__ import annotations

from html import escape
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"

_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/page.css">
</head>
"""


def products_page(products: list[tuple[str, str | None]]) -> str:
    """`/`: every product served, each a link to its page."""
    items = "\n".join(
        f'<li><a href="/products/{escape(name)}">{escape(title or name)}</a>'
        f' <span class="where">({escape(name)})</span></li>'
        for name, title in products
    )
    return (
        _HEAD.format(title="atoconf")
        + f"""<body>
<header><h1>atoconf</h1></header>
<main>
<h2>Products</h2>
<ul id="products">
{items}
</ul>
<p class="where">The JSON API is described at <a href="/openapi.json">/openapi.json</a>.</p>
</main>
</body>
</html>
"""
    )


def product_page(name: str, title: str | None, stock: bool, writes: bool) -> str:
    """`/products/NAME`: the configurator of one product."""
    shown = escape(title or name)
    return (
        _HEAD.format(title=f"{shown} · atoconf")
        + f"""<body>
<header><h1><a href="/">atoconf</a> · {shown}</h1></header>
<main id="app" data-product="{escape(name)}" data-stock="{str(stock).lower()}"
      data-writes="{str(writes).lower()}" data-busy="true">
<div class="actions">
  <button type="button" id="undo" disabled>Undo</button>
  <button type="button" id="reset">Reset</button>
  <span id="status" role="status" aria-live="polite"></span>
</div>
<div class="layout">
  <form id="choices" aria-label="Choices" onsubmit="return false"></form>
  <div>
    <section class="panel" aria-labelledby="count-head">
      <h2 id="count-head">Valid assemblies left</h2>
      <p class="count" id="count">…</p>
    </section>
    <section class="panel" id="conflict" hidden aria-labelledby="conflict-head">
      <h2 id="conflict-head">Why nothing fits</h2>
      <div id="conflict-body"></div>
    </section>
    <section class="panel" id="cheapest" hidden aria-labelledby="cheapest-head">
      <h2 id="cheapest-head">Cheapest completion</h2>
      <div id="cheapest-body"></div>
    </section>
    <section class="panel" id="plan-panel" hidden aria-labelledby="plan-head">
      <h2 id="plan-head">Plan against stock</h2>
      <div class="actions"><button type="button" id="plan">Plan</button></div>
      <div id="reserve-form" hidden>
        <label for="order-id">Order id</label> <input id="order-id" autocomplete="off">
        <label for="token">Token</label> <input id="token" type="password" autocomplete="off">
        <button type="button" id="reserve">Reserve</button>
      </div>
      <div id="plan-body" aria-live="polite"></div>
    </section>
    <section class="panel" aria-labelledby="request-head">
      <h2 id="request-head">The request</h2>
      <pre id="request-json"></pre>
    </section>
  </div>
</div>
</main>
<script src="/static/page.js"></script>
</body>
</html>
"""
    )
