"""``to_label.html``: a contact sheet of an image batch (thumbnail, id, group, reason).

A single self-contained HTML file: every thumbnail is embedded as a PNG data
URI (so the sheet opens anywhere, without the image folder), every text is
HTML-escaped.
"""

import base64
import html
import io

import numpy as np
from PIL import Image

__all__ = ["contact_sheet_html"]

THUMB = 96


def _thumbnail(path):
    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((THUMB, THUMB))
        buf = io.BytesIO()
        im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def contact_sheet_html(batch, data):
    """The HTML text of the contact sheet of ``batch`` (rows of to_label.csv)."""
    cards = []
    for k, (_, row) in enumerate(batch.iterrows()):
        score = row["score"]
        shown = (
            ""
            if score is None or (isinstance(score, float) and not np.isfinite(score))
            else f" &middot; score {float(score):.3g}"
        )
        cards.append(
            '<figure class="card" data-id="{id}">'
            '<img src="{src}" alt="{id}" width="{t}" height="{t}">'
            "<figcaption><b>{k}. {id}</b><br>group {group}{score}<br>"
            '<span class="reason">{reason}</span></figcaption></figure>'.format(
                id=html.escape(str(row[data.id_name])),
                src=_thumbnail(row["image"]),
                t=THUMB,
                k=k + 1,
                group=html.escape(str(row["group"])),
                score=shown,
                reason=html.escape(str(row["reason"])),
            )
        )
    title = f"skfral: {len(batch)} images to label ({html.escape(data.target)})"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>"
        "body{font-family:sans-serif;margin:1em;background:#fafafa}"
        ".grid{display:flex;flex-wrap:wrap;gap:12px}"
        ".card{width:200px;margin:0;padding:8px;background:#fff;"
        "border:1px solid #ccc;border-radius:6px}"
        ".card img{display:block;margin:auto;image-rendering:pixelated}"
        "figcaption{font-size:12px;margin-top:6px}.reason{color:#555}"
        "</style></head><body>"
        f"<h1>{title}</h1><p>Fill the <code>{html.escape(data.target)}</code> column "
        "of to_label.csv, then run <code>skfral merge</code>.</p>"
        f'<div class="grid">{"".join(cards)}</div></body></html>\n'
    )
