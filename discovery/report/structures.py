"""2D structure drawings as inline SVG (RDKit); a placeholder when a SMILES cannot be drawn."""

from __future__ import annotations

from html import escape

from rdkit import Chem, rdBase
from rdkit.Chem.Draw import rdMolDraw2D


def structure_svg(smiles: str, width: int, height: int) -> str:
    """An `<svg>` element drawing `smiles` (polymer `[*]` attachment points appear as `*`).

    Never raises: unparsable or undrawable input gives a labelled placeholder box, because one
    bad candidate must not cost the chemist the whole report.
    """
    with rdBase.BlockLogs():  # RDKit's parse errors would only clutter the campaign log
        mol = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) and smiles else None
        if mol is None:
            return placeholder_svg("cannot parse SMILES", width, height)
        try:
            drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
            options = drawer.drawOptions()
            options.clearBackground = False  # the table row colour shows through
            options.padding = 0.08
            options.fixedBondLength = 24  # a cap: small repeat units are not blown up to fill the box
            options.minFontSize = 11
            options.bondLineWidth = 1.5
            rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
            drawer.FinishDrawing()
        except (RuntimeError, ValueError):  # e.g. a kekulisation failure while preparing
            return placeholder_svg("cannot draw structure", width, height)
    svg = drawer.GetDrawingText()
    # drop the XML declaration: the SVG is inlined in HTML
    return svg[svg.index("<svg"):].strip()


def placeholder_svg(message: str, width: int, height: int) -> str:
    """A grey dashed box with `message`, the same size as a drawing."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(message)}">'
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" fill="#f4f4f4" stroke="#999" '
        f'stroke-dasharray="4 3"/><text x="{width / 2}" y="{height / 2}" text-anchor="middle" '
        f'dominant-baseline="middle" font-family="sans-serif" font-size="12" fill="#666">{escape(message)}</text></svg>'
    )
