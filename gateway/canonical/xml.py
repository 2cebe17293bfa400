"""The canonical dossier as XML (namespace urn:fr:ifpa:dossier:1), written and read by its shape.

Element names are the JSON keys; a list is a wrapper element holding one element per item
(`children/child`, `first_names/first_name`); null is an absent element; the `schema` key is the
namespace itself.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from gateway.canonical.shape import DOSSIER, DOSSIER_NS, Array, Node, Obj, Scalar

Json = dict[str, Any]
_Q = "{" + DOSSIER_NS + "}"


def _text(value: Any, leaf: Scalar) -> str:
    if leaf.kind == "boolean":
        return "true" if value else "false"
    return str(value)


def _write(parent: etree._Element, name: str, value: Any, node: Node) -> None:
    if value is None:
        return
    el = etree.SubElement(parent, _Q + name)
    if isinstance(node, Scalar):
        el.text = _text(value, node)
    elif isinstance(node, Obj):
        for key, child in node.fields:
            _write(el, key, value.get(key), child)
    else:
        for item in value:
            _write(el, node.item_name, item, node.item)


def to_element(dossier: Json) -> etree._Element:
    root = etree.Element(_Q + "dossier", nsmap={None: DOSSIER_NS})  # type: ignore[dict-item]
    for key, node in DOSSIER.fields:
        if key != "schema":
            _write(root, key, dossier.get(key), node)
    return root


def to_xml(dossier: Json) -> bytes:
    return etree.tostring(to_element(dossier), xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _read_scalar(el: etree._Element, leaf: Scalar) -> Any:
    text = el.text or ""
    if leaf.kind == "boolean":
        return text == "true"
    if leaf.kind == "integer":
        return int(text)
    return text


def _read(el: etree._Element | None, node: Node) -> Any:
    if el is None:
        return [] if isinstance(node, Array) else None
    if isinstance(node, Scalar):
        return _read_scalar(el, node)
    if isinstance(node, Obj):
        return {key: _read(el.find(_Q + key), child) for key, child in node.fields}
    return [_read(item, node.item) for item in el.findall(_Q + node.item_name)]


def from_element(root: etree._Element) -> Json:
    """Read a canonical dossier element (already schema-valid) back into its JSON form."""
    result: Json = {}
    for key, node in DOSSIER.fields:
        result[key] = DOSSIER_NS if key == "schema" else _read(root.find(_Q + key), node)
    return result
