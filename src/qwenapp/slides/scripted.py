"""A scripted "model" that writes plausible decks: for tests and demos.

:func:`deck_responder` answers the outline and slide requests of
:mod:`.pipeline` from the JSON schema it is sent (which kind of slide, how
many headings, which source ids), in English or Chinese, with distinct
text on every slide and chart numbers taken from the prompt. Use it as
``ScriptedModel(responder=deck_responder())``. :func:`cli_script` writes the
same answers as a ``scripted:PATH.json`` file, for driving the real CLI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..models.events import GenerateOptions, Message
from ..models.scripted import Reply

__all__ = ["cli_script", "deck_responder"]

_EN_HEADS = [
    "Where the momentum comes from", "How the model family is organised",
    "What developers get out of the box", "Costs of running locally", "Risks worth managing",
    "Measured adoption so far", "Lessons from early deployments", "What to expect next year",
    "Licensing and governance", "Community and tooling", "Security practice", "Skills to build",
]
_ZH_HEADS = [
    "发展势头从何而来", "模型家族如何组织", "开发者能直接获得什么", "本地运行的成本",
    "需要管理的风险", "目前的采用情况", "早期部署的经验", "明年的预期",
    "许可与治理", "社区与工具", "安全实践", "需要培养的能力",
]
_EN_WORDS = [
    "latency", "budgets", "licences", "benchmarks", "tooling", "hardware", "privacy", "training",
    "quantisation", "evaluation", "support", "documentation", "pricing", "contributors",
    "datasets", "governance", "integration", "monitoring", "hiring", "roadmaps", "feedback",
    "partners", "testing", "releases", "security", "scaling", "caching", "adapters", "agents",
    "retrieval", "translation", "reasoning", "coding", "mathematics", "vision", "speech",
]
_ZH_WORDS = [
    "延迟", "预算", "许可", "评测", "工具", "硬件", "隐私", "训练", "量化", "评估", "支持", "文档",
    "定价", "贡献者", "数据集", "治理", "集成", "监控", "招聘", "路线图", "反馈", "合作伙伴",
    "测试", "发布", "安全", "扩展", "缓存", "适配器", "智能体", "检索", "翻译", "推理",
    "编程", "数学", "视觉", "语音",
]


def _is_zh(messages: Sequence[Message]) -> bool:
    return "简体中文" in messages[0].content


def _topic(text: str) -> str:
    m = re.search(r"(?:Plan a slide deck about: |为以下主题规划一份演示文稿：)(.+)", text)
    return m.group(1).strip() if m else "the topic"


def _heading(text: str) -> tuple[int, str]:
    m = re.search(r"(?:content of slide |第 )(\d+)(?: 张幻灯片的内容)?[:：]\s*[\"“](.+?)[\"”]",
                  text)
    return (int(m.group(1)), m.group(2)) if m else (1, "the slide")


# A point is an opener, a word and a closer; with 9 openers and 11 closers (coprime)
# no two of the first 99 points share both, so they never read as near-duplicates.
_EN_OPEN = ["Most teams underestimate", "Early work on", "Clear ownership of",
            "Vendors now compete on", "Regulators increasingly ask about",
            "Open communities move fastest on", "Budget reviews single out",
            "Customer interviews keep returning to", "Hiring plans now cover"]
_EN_CLOSE = ["before the first pilot", "across every product line", "in regulated industries",
             "when budgets tighten", "for small startups", "inside large enterprises",
             "after the second release", "during procurement", "at the planning stage",
             "once usage grows", "in public tenders"]
_ZH_OPEN = ["多数团队低估了", "早期投入", "明确负责", "厂商如今竞争", "监管机构关注",
            "开源社区推进", "预算评审关注", "客户反复提到", "招聘计划涵盖"]
_ZH_CLOSE = ["在首个试点之前", "贯穿每条产品线", "在受监管行业中", "在预算收紧时",
             "对小型创业公司而言", "在大型企业内部", "在第二次发布之后", "在采购阶段",
             "在规划阶段", "在用量增长之后", "在公开招标中"]


_EN_STEP = ["Take stock of current", "Try a small pilot on", "Roll out and review"]
_ZH_STEP = ["盘点现有的", "先小范围试点", "全面推广并复盘"]


def _phrase(zh: bool, index: int, n: int) -> str:
    words = _ZH_WORDS if zh else _EN_WORDS
    k = index * 3 + n
    opener = (_ZH_OPEN if zh else _EN_OPEN)[k % 9]
    closer = (_ZH_CLOSE if zh else _EN_CLOSE)[k % 11]
    word = words[(k * 7) % len(words)]
    return f"{opener}{word}{closer}" if zh else f"{opener} {word} {closer}"


def _points(zh: bool, index: int, count: int) -> list[str]:
    return [_phrase(zh, index, n) for n in range(count)]


def _notes(zh: bool, heading: str) -> str:
    if zh:
        return f"这一页讲{heading}，先说明背景，再给出结论。"
    return f"This slide covers {heading.lower()}; start with the context, then the conclusion."


def _content(props: dict[str, Any], zh: bool, index: int, heading: str,
             numbers: list[str], verb_steps: bool = False) -> dict[str, Any]:
    """One slide's reply. ``verb_steps``: steps open with verbs of their own (the CLI
    script's fixed replies: there a step opening as another slide's point, "Customer
    interviews keep returning to…", would be a repeat, and left out)."""
    out: dict[str, Any] = {}
    if "src" in props:
        out["src"] = props["src"]["items"]["enum"][:1]
    if "left" in props:
        left, right = ("开源方案", "闭源方案") if zh else ("Open models", "Closed models")
        out["left"] = {"head": left, "points": _points(zh, index, 2)}
        out["right"] = {"head": right, "points": _points(zh, index + 40, 2)}
    elif "cols" in props:
        words = _ZH_WORDS if zh else _EN_WORDS
        out["cols"] = ["方面", "现状", "下一步"] if zh else ["Area", "Today", "Next step"]
        n = len(words)
        out["rows"] = [[words[(index * 3 + r + k) % n] for k in (0, 9, 21)] for r in range(3)]
    elif "stats" in props:
        labels = ["采用率", "节省成本", "团队数量"] if zh else ["adoption", "cost saved",
                                                          "teams using it"]
        out["stats"] = [{"v": v, "l": lab} for v, lab in zip(numbers[:3], labels, strict=False)]
    elif "q" in props:
        options = props["q"].get("enum") or ["(no sentence offered)"]
        out["q"] = options[0]
        out["by"] = ""
    elif "steps" in props:
        verbs = _ZH_STEP if zh else _EN_STEP
        words = _ZH_WORDS if zh else _EN_WORDS
        out["steps"] = [{"l": (f"第{n + 1}步" if zh else ["Assess", "Pilot", "Scale", "Review"][n]),
                         "t": ((f"{verbs[n]}{words[(index * 5 + n) % len(words)]}" if zh else
                                f"{verbs[n]} {words[(index * 5 + n) % len(words)]}")
                               if verb_steps else _phrase(zh, index + 5, n))}
                        for n in range(3)]
    else:
        out["points"] = _points(zh, index, 3)
    out["notes"] = _notes(zh, heading)
    return out


def _outline(schema: dict[str, Any], zh: bool, topic: str) -> dict[str, Any]:
    slides = schema["properties"]["slides"]
    count = int(slides["minItems"])
    heads = _ZH_HEADS if zh else _EN_HEADS
    out: dict[str, Any] = {"title": topic[:24] if zh else topic[:60],
                           "sub": "面向团队的简报" if zh else "A briefing for the team"}
    # kinds as a model that names them would give (the schema asks for headings only when
    # the material holds no figures, quotes or dates: then the base kinds in turn)
    kind = slides["items"].get("properties", {}).get("kind")
    kinds = kind["enum"] if kind else ["bullets", "compare", "process", "table"]
    order = [k for k in ("bullets", "compare", "process", "table", "kpi", "quote", "timeline")
             if k in kinds]
    out["slides"] = [{"head": heads[i % len(heads)], "kind": order[i % len(order)]}
                     for i in range(count)]
    return out
    order = [k for k in ("bullets", "compare", "process", "table", "kpi", "quote", "timeline")
             if k in kind["enum"]]
    out["slides"] = [{"head": heads[i % len(heads)], "kind": order[i % len(order)]}
                     for i in range(count)]
    return out


def _figures(text: str) -> list[str]:
    """Figures with a unit in the prompt (for a KPI slide), as written."""
    return list(dict.fromkeys(re.findall(r"\d[\d,.]*\s?(?:%|million|万|亿)", text)))


def _data(text: str, zh: bool) -> dict[str, Any]:
    table = text.split("\n")[-1]
    first = table.split(" | ")[0].strip() or "the data"
    if zh:
        return {"head": f"数据概览：{first}", "take": "数据显示了明显的变化。"}
    return {"head": f"What the figures show from {first}",
            "take": "The figures rise across the period."}


def deck_responder() -> Any:
    """A ScriptedModel responder that answers deck requests with valid, distinct content."""
    used: list[str] = []

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Reply:
        schema = options.json_schema or {}
        props = schema.get("properties", {})
        text = messages[-1].content
        zh = _is_zh(messages)
        if "slides" in props:
            return _outline(schema, zh, _topic(text))
        if "lines" in props:
            n = int(props["lines"]["minItems"])
            lines = [x.split(". ", 1)[-1] for x in text.splitlines()[-n:]]
            return {"lines": [" ".join(x.split()[:8]) for x in lines]}
        if "take" in props:
            if "This slide shows the data" in text or "展示下面的数据" in text:
                return _data(text, zh)
            heads = _ZH_HEADS if zh else _EN_HEADS
            head = next((h for h in reversed(heads) if h not in text and h not in used),
                        heads[-1])
            used.append(head)
            return {"head": head, "take": ""}
        index, heading = _heading(text)
        # a rewrite or a replacement gets other words than the first draft
        index += 31 * (sum(map(ord, heading)) % 5) + 17 * text.count("rejected")
        return _content(props, zh, index, heading, _figures(text))

    return respond


def cli_script(path: Path, topic: str, slides: int, *, zh: bool = False,
               charts: bool = False) -> Path:
    """Write a ``scripted:PATH`` file whose rules answer one CLI deck run.

    The outline is fixed by the rules, so each slide request is matched by its
    index. ``charts`` is kept for callers; charts now come from code (a series
    of numbers in the topic becomes a chart slide whose heading a rule answers).
    """
    del charts
    agenda = slides >= 7
    count = slides - 2 - (1 if agenda else 0)
    from .pipeline import choose_kinds
    from .tables import series_in_request

    data = 1 if series_in_request(topic) is not None else 0
    kinds = choose_kinds(topic, [])
    outline_schema = {"properties": {"slides": {"minItems": count - data + 2, "items": {
        "properties": {"kind": {"enum": kinds}}}}}}
    outline = _outline(outline_schema, zh, topic)
    rules = []
    for i in range(1, count + 1):
        plan = outline["slides"][i - 1 - (1 if data and i > 2 else 0)]
        props: dict[str, Any] = {{"compare": "left", "table": "cols", "bullets": "points",
                                  "process": "steps", "kpi": "stats", "timeline": "steps",
                                  "quote": "q"}[plan["kind"]]: {}}
        reply = _content(props, zh, i, plan["head"], _figures(topic), verb_steps=True)
        needle = f"第 {i} 张幻灯片的内容" if zh else f"content of slide {i}:"
        rules.append({"contains": needle, "reply": reply})
    rules.append({"contains": "展示下面的数据" if zh else "This slide shows the data",
                  "reply": {"head": "数据趋势" if zh else "How the figures moved",
                            "take": "数据显示了明显的变化。" if zh else
                            "The figures rise over the period."}})
    rules.append({"contains": "为以下主题规划" if zh else "Plan a slide deck", "reply": outline})
    path.write_text(json.dumps({"rules": rules}, ensure_ascii=False), encoding="utf-8")
    return path
