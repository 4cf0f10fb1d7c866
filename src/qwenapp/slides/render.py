"""Deck → .pptx bytes: pure, no model call, no file written.

python-pptx draws what :mod:`.layout` planned: titles go into the layout's
title placeholder (so the outline view and accessibility tools see them),
body text into text boxes sized and set as measured, charts and tables as
native chart and table parts, speaker notes on notes pages, slide numbers
as real slide-number fields. Every run names its Latin and East Asian
typefaces (``a:latin``, ``a:ea``) so Chinese renders in a CJK font. Unused
placeholders are removed: no "Click to add title" is ever left.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.enum.dml import MSO_THEME_COLOR
from pptx.enum.shapes import MSO_SHAPE, PP_PLACEHOLDER
from pptx.enum.text import MSO_ANCHOR
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn
from pptx.shapes.shapetree import SlideShapeFactory
from pptx.util import Emu

from .boxes import Colour, Shape, ShapeKind
from .deck import Deck
from .errors import DeckError
from .language import LANGUAGES, Language
from .layout import (
    CELL_INSET_X,
    CELL_INSET_Y,
    INSET_X,
    INSET_Y,
    PARA_SPACE,
    ChartBox,
    Frame,
    Geometry,
    SlidePlan,
    TableBox,
    TextBox,
    default_geometry,
    plan_deck,
)
from .themes import Palette, Theme

__all__ = ["render_pptx"]

EMU_PER_PT = 12700
WIDE = (12192000, 6858000)  # 13.333 in × 7.5 in (16:9)
MAX_LABELS = 16  # data labels on a line chart with more points than this (all series) crowd it
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_TITLE_TYPES = {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE}


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour)  # type: ignore[no-untyped-call,no-any-return]


def _emu(pt: float) -> Emu:
    return Emu(round(pt * EMU_PER_PT))


def render_pptx(deck: Deck, theme: Theme) -> bytes:
    """The deck as .pptx bytes (raises DeckError for a structurally broken deck)."""
    problems = deck.problems()
    if problems:
        raise DeckError(f"the deck cannot be rendered: {problems[0]}")
    deck = Deck.model_validate(_clean(deck.model_dump()))
    prs = _open(theme)
    layouts = _Layouts.find(prs)
    geo = _geometry(prs, theme, layouts)
    lang = next((x for x in LANGUAGES.values() if x.code.split("-")[0] == deck.language),
                LANGUAGES["en"])
    painter = _Painter(theme, lang)
    for plan in plan_deck(deck, theme, geo):
        painter.slide(prs, layouts, plan)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- package set-up


def _open(theme: Theme) -> Any:
    if theme.template is not None:
        prs = Presentation(io.BytesIO(theme.template))
        _drop_slides(prs)
        return prs
    prs = Presentation()
    sx = WIDE[0] / prs.slide_width
    prs.slide_width, prs.slide_height = Emu(WIDE[0]), Emu(WIDE[1])
    # The stock master is 4:3: widen its and its layouts' placeholders to match.
    for part in [prs.slide_master, *prs.slide_layouts]:
        for xfrm in part._element.iter(qn("a:xfrm")):
            off, ext = xfrm.find(qn("a:off")), xfrm.find(qn("a:ext"))
            if off is not None and ext is not None:
                off.set("x", str(int(int(off.get("x")) * sx)))
                ext.set("cx", str(int(int(ext.get("cx")) * sx)))
    assert theme.palette is not None
    _patch_theme(prs, theme, theme.palette)
    fill = prs.slide_master.background.fill
    fill.solid()
    fill.fore_color.rgb = _rgb(theme.palette.background)
    return prs


def _drop_slides(prs: Any) -> None:
    """A template's own slides are samples: remove them, keep masters and layouts."""
    id_list = prs.slides._sldIdLst
    for sld_id in list(id_list):
        prs.part.drop_rel(sld_id.rId)
        id_list.remove(sld_id)
    # Sections and custom shows list the removed slides: PowerPoint would offer a repair.
    root = prs.part._element
    for el in root.xpath("//*[local-name()='sectionLst' or local-name()='custShowLst']"):
        el.getparent().remove(el)


def _patch_theme(prs: Any, theme: Theme, pal: Palette) -> None:
    """Write the palette and fonts into the theme part, so new content matches too."""
    part = prs.slide_master.part.part_related_by(RT.THEME)
    root = etree.fromstring(part.blob)
    ns = {"a": _A}
    scheme = root.find(".//a:clrScheme", ns)
    colours = {"dk1": pal.text, "lt1": pal.background, "dk2": pal.title, "lt2": pal.surface,
               **{f"accent{i}": c for i, c in enumerate(pal.accents, 1)}}
    if scheme is not None:
        scheme.set("name", f"qwenapp {theme.name}")
        for tag, colour in colours.items():
            slot = scheme.find(f"a:{tag}", ns)
            if slot is not None:
                for child in list(slot):
                    slot.remove(child)
                etree.SubElement(slot, qn("a:srgbClr"), val=colour)
    for kind, face in (("majorFont", theme.heading_font), ("minorFont", theme.body_font)):
        fonts = root.find(f".//a:{kind}", ns)
        if fonts is None:
            continue
        for tag, value in (("latin", face), ("ea", theme.ea_font)):
            el = fonts.find(f"a:{tag}", ns)
            if el is not None:
                el.set("typeface", value)
        for el in fonts.findall("a:font", ns):
            if el.get("script") == "Hans":
                el.set("typeface", theme.ea_font)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


@dataclass(frozen=True, slots=True)
class _Layouts:
    cover: Any
    content: Any
    section: Any
    body_frame: Frame | None  # the body placeholder of a "Title and Content" layout

    @staticmethod
    def find(prs: Any) -> _Layouts:
        layouts = list(prs.slide_layouts)
        kinds = {id(lo): _ph_types(lo._element) for lo in layouts}

        def has(lo: Any, kind: str) -> bool:
            return kind in kinds[id(lo)]

        cover = next((lo for lo in layouts if has(lo, "ctrTitle")), layouts[0])
        title_only = [lo for lo in layouts if kinds[id(lo)] == ["title"]]
        with_body = [lo for lo in layouts if has(lo, "title") and len(kinds[id(lo)]) == 2]
        any_title = [lo for lo in layouts if has(lo, "title")]
        content = (title_only or with_body or any_title or [cover])[0]
        body_frame = None
        for lo in with_body:
            for ph in lo.placeholders:
                if ph.placeholder_format.type in (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT):
                    body_frame = _frame(ph)
                    break
            if body_frame:
                break
        # Section and closing slides reuse the cover layout: its placeholders are the ones
        # measured (a template's "Section Header" often sets all caps or other spacing).
        return _Layouts(cover, content, cover, body_frame)


_NOT_CONTENT = {"dt", "ftr", "sldNum", "hdr"}


def _ph_types(element: Any) -> list[str]:
    """Placeholder types of a layout or slide, footers left out (``obj`` is the default)."""
    types = [ph.get("type", "obj") for ph in element.iter(qn("p:ph"))]
    return [t for t in types if t not in _NOT_CONTENT]


def _frame(shape: Any) -> Frame | None:
    try:
        x, y, w, h = shape.left, shape.top, shape.width, shape.height
    except (AttributeError, KeyError):
        return None
    if None in (x, y, w, h) or not w or not h:
        return None
    return Frame(x / EMU_PER_PT, y / EMU_PER_PT, w / EMU_PER_PT, h / EMU_PER_PT)


def _ph_frame(layout: Any, types: set[Any]) -> Frame | None:
    for ph in layout.placeholders:
        if ph.placeholder_format.type in types:
            return _frame(ph)
    return None


def _inside(f: Frame | None, w: float, h: float) -> bool:
    return f is not None and f.x >= 0 and f.y >= 0 and f.right <= w and f.bottom <= h


def _geometry(prs: Any, theme: Theme, layouts: _Layouts) -> Geometry:
    w, h = prs.slide_width / EMU_PER_PT, prs.slide_height / EMU_PER_PT
    geo = default_geometry(w, h, theme)
    if not theme.is_template:
        return geo
    # A template: its own title and body regions, kept clear of our footer line.
    title = _ph_frame(layouts.content, _TITLE_TYPES)
    body = layouts.body_frame
    if _inside(title, w, h) and title is not None:
        geo = Geometry(w, h, title, geo.body, geo.footer, geo.cover_title, geo.cover_sub)
    top = geo.title.bottom + 8
    if _inside(body, w, h) and body is not None:
        top = max(top, body.y)
        bottom = min(body.bottom, geo.footer.y - 6)
        new_body = Frame(body.x, top, body.w, bottom - top)
    else:
        new_body = Frame(geo.body.x, top, geo.body.w, geo.footer.y - 6 - top)
    if new_body.h >= 80:
        geo = Geometry(w, h, geo.title, new_body, geo.footer, geo.cover_title, geo.cover_sub)
    ct = _ph_frame(layouts.cover, {PP_PLACEHOLDER.CENTER_TITLE, PP_PLACEHOLDER.TITLE})
    cs = _ph_frame(layouts.cover, {PP_PLACEHOLDER.SUBTITLE})
    if _inside(ct, w, h) and _inside(cs, w, h) and ct is not None and cs is not None \
            and not ct.overlaps(cs) and ct.y < cs.y:
        geo = Geometry(w, h, geo.title, geo.body, geo.footer, ct, cs)
    return geo


# ---------------------------------------------------------------- drawing


class _Painter:
    def __init__(self, theme: Theme, lang: Language) -> None:
        self.theme = theme
        self.pal = theme.palette
        self.lang = lang
        self.cjk = lang.script != "latin"
        self.fields = 0

    def slide(self, prs: Any, layouts: _Layouts, plan: SlidePlan) -> None:
        layout = {"cover": layouts.cover, "content": layouts.content,
                  "section": layouts.section}[plan.layout]
        slide = prs.slides.add_slide(layout)
        placeholders = {sp: sp.find(".//" + qn("p:ph")).get("type", "obj")
                        for sp in slide.shapes._spTree.iter(qn("p:sp"))
                        if sp.find(".//" + qn("p:ph")) is not None}
        used: set[Any] = set()
        if plan.background is not None:
            self._fill(slide.background.fill, plan.background)
        # panels first, so the text on them is drawn on top (and read after them)
        order = sorted(enumerate(plan.items, 1),
                       key=lambda e: 0 if isinstance(e[1], Shape) and e[1].behind else 1)
        for n, item in order:
            if isinstance(item, TextBox):
                sp = self._placeholder(placeholders, item) if item.placeholder else None
                if sp is None and item.fill is not None:
                    shape = self._autoshape(slide, item.shape, item.frame, item.fill)
                elif sp is None:
                    shape = slide.shapes.add_textbox(*_box(item.frame))
                else:
                    used.add(sp)
                    shape = SlideShapeFactory(sp, slide.shapes)
                    shape.left, shape.top, shape.width, shape.height = _box(item.frame)
                shape.name = f"{item.role.title()} {n}"
                self.text(shape.text_frame._txBody, item)
                if item.nowrap:
                    shape.text_frame._txBody.find(qn("a:bodyPr")).set("wrap", "none")
            elif isinstance(item, ChartBox):
                self.chart(slide, item, n)
            elif isinstance(item, TableBox):
                self.table(slide, item, n)
            elif isinstance(item, Shape):
                shape = self._autoshape(slide, item.kind, item.frame, item.fill)
                shape.name = f"{'Panel' if item.behind else 'Accent'} {n}"
        for sp in placeholders:
            if sp not in used:  # nothing empty left behind
                sp.getparent().remove(sp)
        if plan.notes:
            slide.notes_slide.notes_text_frame.text = plan.notes

    def _placeholder(self, placeholders: dict[Any, str], box: TextBox) -> Any:
        types = {"title", "ctrTitle"} if box.placeholder == "title" else {"subTitle"}
        if box.placeholder == "subtitle" and self.theme.is_template:
            types = {"subTitle", "body"}
        return next((sp for sp, kind in placeholders.items() if kind in types), None)

    # -- text

    def _colour(self, box: TextBox) -> Colour | None:
        if box.colour is not None:
            return box.colour
        return {"title": "title", "subtitle": "muted", "heading": "accent", "footer": "muted",
                "number": "muted", "value": "accent"}.get(box.role, "text")  # type: ignore[return-value]

    def _fill(self, fill: Any, colour: Colour) -> None:
        """A solid fill: the palette's colour, or a template's own scheme colour."""
        fill.solid()
        if self.pal is not None:
            fill.fore_color.rgb = _rgb(_hex(self.pal, colour))
        else:
            fill.fore_color.theme_color = _SCHEME[colour]

    def _autoshape(self, slide: Any, kind: ShapeKind, frame: Frame, fill: Colour) -> Any:
        shape = slide.shapes.add_shape(_SHAPES[kind], *_box(frame))
        shape.line.fill.background()
        shape.shadow.inherit = False
        if kind == "round":
            shape.adjustments[0] = min(0.5, 10.0 / max(1.0, min(frame.w, frame.h)))
        elif kind in ("chevron", "pentagon"):
            shape.adjustments[0] = 0.32
        self._fill(shape.fill, fill)
        return shape

    def _colour_el(self, colour: Colour | None) -> Any:
        """``a:srgbClr`` from the palette; for a template its scheme colour, or None to
        inherit the template's own text colours."""
        if colour is None:
            return None
        if self.pal is not None:
            return etree.Element(qn("a:srgbClr"), val=_hex(self.pal, colour))
        scheme = _SCHEME_XML.get(colour)
        return etree.Element(qn("a:schemeClr"), val=scheme) if scheme else None

    def _font(self, rpr: Any, *, heading: bool, size: float, bold: bool,
              colour: Colour | None, italic: bool = False) -> None:
        rpr.set("lang", self.lang.code)
        if self.cjk:
            rpr.set("altLang", "en-US")
        rpr.set("sz", str(round(size * 100)))
        rpr.set("b", "1" if bold else "0")
        if italic:
            rpr.set("i", "1")
        el = self._colour_el(colour)
        if el is not None:
            fill = rpr.find(qn("a:solidFill"))
            if fill is None:
                fill = etree.Element(qn("a:solidFill"))
                rpr.insert(0, fill)
            for child in list(fill):
                fill.remove(child)
            fill.append(el)
        latin = None
        if not self.theme.is_template:
            latin = self.theme.heading_font if heading else self.theme.body_font
        ea_face = self.theme.heading_ea_font if heading else self.theme.ea_font
        ea = ea_face if (self.cjk or not self.theme.is_template) else None
        _typefaces(rpr, latin, ea)

    def text(self, body: Any, box: TextBox) -> None:
        """Fill a ``p:txBody`` (built as XML: python-pptx's setters cost most of a render)."""
        _body_pr(body, {"top": "t", "middle": "ctr", "bottom": "b"}[box.anchor])
        for old in body.findall(qn("a:p")):
            body.remove(old)
        align = {"left": "l", "center": "ctr", "right": "r"}[box.align]
        heading = box.role in ("title", "heading", "quote", "value")
        colour = self._colour(box)
        bullet_colour: Colour | None = "accent"
        for i, para in enumerate(box.paragraphs):
            p = etree.SubElement(body, qn("a:p"))
            self.paragraph(p, para, box.size, align=align, space=PARA_SPACE * box.size if i
                           else 0.0, indent=box.indent, bullet=bullet_colour, heading=heading,
                           bold=box.bold, colour=colour, field=box.slide_number,
                           italic=box.italic)

    def paragraph(self, p: Any, text: str, size: float, *, align: str, space: float,
                  indent: float, bullet: Colour | None, heading: bool, bold: bool,
                  colour: Colour | None, field: bool = False, italic: bool = False) -> None:
        # no hanging punctuation: a CJK comma may not hang past the measured line
        ppr = etree.SubElement(p, qn("a:pPr"), algn=align, hangingPunct="0")
        etree.SubElement(etree.SubElement(ppr, qn("a:lnSpc")), qn("a:spcPct"), val="100000")
        etree.SubElement(etree.SubElement(ppr, qn("a:spcBef")), qn("a:spcPts"),
                         val=str(round(space * 100)))
        etree.SubElement(etree.SubElement(ppr, qn("a:spcAft")), qn("a:spcPts"), val="0")
        _bullet(ppr, indent, self._colour_el(bullet))
        if field:
            # a fixed id per field: the same deck gives the same XML on every run
            self.fields += 1
            fid = uuid.uuid5(uuid.NAMESPACE_URL, f"qwenapp-slidenum-{self.fields}")
            run = etree.SubElement(p, qn("a:fld"), id="{" + str(fid).upper() + "}",
                                   type="slidenum")
        else:
            run = etree.SubElement(p, qn("a:r"))
        rpr = etree.SubElement(run, qn("a:rPr"))
        self._font(rpr, heading=heading, size=size, bold=bold, colour=colour, italic=italic)
        etree.SubElement(run, qn("a:t")).text = _xml_safe(text)

    # -- other shapes

    def chart(self, slide: Any, box: ChartBox, n: int) -> None:
        c = box.chart
        data = CategoryChartData()  # type: ignore[no-untyped-call]
        data.categories = c.categories
        for s in c.series:
            data.add_series(s.name, s.values)  # type: ignore[no-untyped-call]
        kind = {"bar": XL_CHART_TYPE.COLUMN_CLUSTERED, "line": XL_CHART_TYPE.LINE_MARKERS,
                "pie": XL_CHART_TYPE.PIE}[c.type]
        frame = slide.shapes.add_chart(kind, *_box(box.frame), data)
        frame.name = f"Chart {n}"
        chart = frame.chart
        chart.has_title = False
        chart.has_legend = c.type == "pie" or len(c.series) > 1
        if chart.has_legend:
            chart.legend.position = XL_LEGEND_POSITION.BOTTOM
            chart.legend.include_in_layout = False
        self._font(chart.font._rPr, heading=False, size=box.size, bold=False,
                   colour="text" if self.pal else None)
        plot = chart.plots[0]
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.number_format = "General"
        labels.number_format_is_linked = False
        crowded = c.type == "line" and len(c.categories) * len(c.series) > MAX_LABELS
        labels.show_value = not crowded
        if crowded:  # a label on every point of a long line is a blur: label the last ones
            for series in plot.series:
                series.points[len(c.categories) - 1].data_label.position = \
                    XL_LABEL_POSITION.ABOVE
        if c.type == "pie":
            labels.position = XL_LABEL_POSITION.BEST_FIT
        elif c.type == "bar":
            labels.position = XL_LABEL_POSITION.OUTSIDE_END
            plot.gap_width = 80
        if c.type != "pie":
            axis = chart.value_axis
            axis.has_major_gridlines = True
            if c.type == "bar" and all(v >= 0 for se in c.series for v in se.values):
                axis.minimum_scale = 0  # bars that start above zero mislead
            if self.pal is not None:
                axis.major_gridlines.format.line.color.rgb = _rgb(self.pal.surface)
                for ax in (axis, chart.category_axis):
                    ax.format.line.color.rgb = _rgb(self.pal.muted)

    def table(self, slide: Any, box: TableBox, n: int) -> None:
        t = box.table
        rows = [t.header, *t.rows]
        frame = slide.shapes.add_table(len(rows), len(t.header), *_box(box.frame))
        frame.name = f"Table {n}"
        table = frame.table
        widths = _split_emu(box.frame.w, box.col_widths)
        for col, width in zip(table.columns, widths, strict=True):
            col.width = width
        for row, height in zip(table.rows, box.row_heights, strict=True):
            row.height = _emu(height)
        pal = self.pal
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                cell = table.cell(r, c)
                cell.margin_left = cell.margin_right = _emu(CELL_INSET_X)
                cell.margin_top = cell.margin_bottom = _emu(CELL_INSET_Y)
                cell.vertical_anchor = MSO_ANCHOR.MIDDLE
                colour: Colour | None = None
                if pal is not None:
                    self._fill(cell.fill, "accent" if r == 0 else
                               ("surface" if r % 2 else "background"))
                    colour = "on_accent" if r == 0 else "text"
                body = cell.text_frame._txBody
                for old in body.findall(qn("a:p")):
                    body.remove(old)
                self.paragraph(etree.SubElement(body, qn("a:p")), value, box.size, align="l",
                               space=0.0, indent=0.0, bullet=None, heading=False,
                               bold=r == 0, colour=colour)


_SHAPES: dict[ShapeKind, Any] = {
    "rect": MSO_SHAPE.RECTANGLE, "round": MSO_SHAPE.ROUNDED_RECTANGLE,
    "chevron": MSO_SHAPE.CHEVRON, "pentagon": MSO_SHAPE.PENTAGON, "ellipse": MSO_SHAPE.OVAL,
    "line": MSO_SHAPE.RECTANGLE,
}
# a template's scheme colours for each role (its own palette wins)
_SCHEME: dict[Colour, Any] = {
    "background": MSO_THEME_COLOR.BACKGROUND_1, "title": MSO_THEME_COLOR.TEXT_2,
    "text": MSO_THEME_COLOR.TEXT_1, "muted": MSO_THEME_COLOR.TEXT_2,
    "accent": MSO_THEME_COLOR.ACCENT_1, "accent2": MSO_THEME_COLOR.ACCENT_2,
    "surface": MSO_THEME_COLOR.BACKGROUND_2, "on_accent": MSO_THEME_COLOR.BACKGROUND_1,
}
_SCHEME_XML: dict[Colour, str] = {"accent": "accent1", "accent2": "accent2", "on_accent": "bg1",
                                  "surface": "bg2", "background": "bg1"}


def _hex(pal: Palette, colour: Colour) -> str:
    return {"background": pal.background, "title": pal.title, "text": pal.text,
            "muted": pal.muted, "accent": pal.accent, "accent2": pal.accents[1],
            "surface": pal.surface, "on_accent": pal.on_accent}[colour]


def _box(f: Frame) -> tuple[Emu, Emu, Emu, Emu]:
    return _emu(f.x), _emu(f.y), _emu(f.w), _emu(f.h)


def _split_emu(total_pt: float, parts: Iterable[float]) -> list[Emu]:
    """Column widths in EMU that add up exactly to the frame width."""
    widths = [round(p * EMU_PER_PT) for p in parts]
    widths[-1] += round(total_pt * EMU_PER_PT) - sum(widths)
    return [Emu(w) for w in widths]


_AFTER_TYPEFACES = ("cs", "sym", "hlinkClick", "hlinkMouseOver", "rtl", "extLst")


def _typefaces(rpr: Any, latin: str | None, ea: str | None) -> None:
    """Set ``a:latin`` and ``a:ea`` in schema order (after fills, before ``a:cs``)."""
    for tag in ("latin", "ea"):
        for old in rpr.findall(qn(f"a:{tag}")):
            rpr.remove(old)
    new = []
    if latin:
        new.append(etree.Element(qn("a:latin"), typeface=latin))
    if ea:
        new.append(etree.Element(qn("a:ea"), typeface=ea))
    anchor = next((child for child in rpr if etree.QName(child).localname in _AFTER_TYPEFACES),
                  None)
    for el in new:
        if anchor is not None:
            anchor.addprevious(el)
        else:
            rpr.append(el)


def _bullet(ppr: Any, indent: float, colour: Any) -> None:
    for tag in ("buClr", "buSzPct", "buFont", "buNone", "buAutoNum", "buChar"):
        for old in ppr.findall(qn(f"a:{tag}")):
            ppr.remove(old)
    if indent <= 0:
        ppr.set("marL", "0")
        ppr.set("indent", "0")
        _insert_bullet_el(ppr, [etree.Element(qn("a:buNone"))])
        return
    ppr.set("marL", str(round(indent * EMU_PER_PT)))
    ppr.set("indent", str(-round(indent * EMU_PER_PT)))
    els = []
    if colour is not None:
        clr = etree.Element(qn("a:buClr"))
        clr.append(colour)
        els.append(clr)
    els.append(etree.Element(qn("a:buFont"), typeface="Arial"))
    els.append(etree.Element(qn("a:buChar"), char="•"))
    _insert_bullet_el(ppr, els)


def _insert_bullet_el(ppr: Any, els: list[Any]) -> None:
    """Bullet elements go after lnSpc/spcBef/spcAft and before tabLst/defRPr/extLst."""
    anchor = next((c for c in ppr if etree.QName(c).localname in ("tabLst", "defRPr", "extLst")),
                  None)
    for el in els:
        if anchor is not None:
            anchor.addprevious(el)
        else:
            ppr.append(el)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(value: Any) -> Any:
    """Every string in a dumped deck made XML-safe (measured as it will be drawn)."""
    if isinstance(value, str):
        return _xml_safe(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _xml_safe(text: str) -> str:
    """Text without the control characters XML 1.0 cannot hold."""
    return _CONTROL.sub("", text)


_AUTOFIT = ("noAutofit", "normAutofit", "spAutoFit")


def _body_pr(body: Any, anchor: str) -> None:
    """Wrap on, autofit off, the measured insets, and the anchor, on ``a:bodyPr``."""
    bpr = body.find(qn("a:bodyPr"))
    if bpr is None:
        bpr = etree.Element(qn("a:bodyPr"))
        body.insert(0, bpr)
    x, y = str(round(INSET_X * EMU_PER_PT)), str(round(INSET_Y * EMU_PER_PT))
    for key, value in (("wrap", "square"), ("lIns", x), ("rIns", x), ("tIns", y), ("bIns", y),
                       ("anchor", anchor)):
        bpr.set(key, value)
    for child in list(bpr):
        if etree.QName(child).localname in _AUTOFIT:
            bpr.remove(child)
    warp = bpr.find(qn("a:prstTxWarp"))
    no_fit = etree.Element(qn("a:noAutofit"))
    if warp is not None:
        warp.addnext(no_fit)
    else:
        bpr.insert(0, no_fit)
