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


def _numbers(text: str) -> list[float]:
    m = re.search(r"(?:use no other numbers\): |图表只能使用这些数字：)(.+)", text)
    if not m:
        return []
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", m.group(1))]


def _phrase(zh: bool, index: int, n: int) -> str:
    words = _ZH_WORDS if zh else _EN_WORDS
    a = words[(index * 5 + n) % len(words)]
    b = words[(index * 5 + n + 17) % len(words)]
    if zh:
        return f"{a}与{b}的实际进展值得关注"
    return f"Teams report steady progress on {a} and {b}"


def _points(zh: bool, index: int, count: int) -> list[str]:
    return [_phrase(zh, index, n) for n in range(count)]


def _notes(zh: bool, heading: str) -> str:
    if zh:
        return f"这一页讲{heading}，先说明背景，再给出结论。"
    return f"This slide covers {heading.lower()}; start with the context, then the conclusion."


def _content(props: dict[str, Any], zh: bool, index: int, heading: str,
             numbers: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "src" in props:
        out["src"] = props["src"]["items"]["enum"][:1]
    if "left" in props:
        left, right = ("开源方案", "闭源方案") if zh else ("Open models", "Closed models")
        out["left"] = {"head": left, "points": _points(zh, index, 2)}
        out["right"] = {"head": right, "points": _points(zh, index + 7, 2)}
    elif "cols" in props:
        words = _ZH_WORDS if zh else _EN_WORDS
        out["cols"] = ["方面", "现状", "下一步"] if zh else ["Area", "Today", "Next step"]
        n = len(words)
        out["rows"] = [[words[(index * 3 + r + k) % n] for k in (0, 9, 21)] for r in range(3)]
    elif "chart" in props:
        values = numbers[:4] if len(numbers) >= 2 else [1.0, 2.0]
        labels = [f"{'组' if zh else 'Group'} {chr(65 + i)}" for i in range(len(values))]
        out["chart"] = {"type": "bar", "labels": labels, "values": values}
        out["points"] = _points(zh, index, 2)
    else:
        out["points"] = _points(zh, index, 3)
    out["notes"] = _notes(zh, heading)
    return out


def _outline(schema: dict[str, Any], zh: bool, topic: str) -> dict[str, Any]:
    slides = schema["properties"]["slides"]
    count = int(slides["minItems"])
    kinds = slides["items"]["properties"]["kind"]["enum"]
    order = [k for k in ("bullets", "compare", "chart", "table") if k in kinds]
    heads = _ZH_HEADS if zh else _EN_HEADS
    return {
        "title": topic[:24] if zh else topic[:60],
        "sub": "面向团队的简报" if zh else "A briefing for the team",
        "slides": [{"head": heads[i % len(heads)], "kind": order[i % len(order)]}
                   for i in range(count)],
    }


def deck_responder() -> Any:
    """A ScriptedModel responder that answers deck requests with valid, distinct content."""

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Reply:
        schema = options.json_schema or {}
        props = schema.get("properties", {})
        text = messages[-1].content
        zh = _is_zh(messages)
        if "slides" in props:
            return _outline(schema, zh, _topic(text))
        index, heading = _heading(text)
        return _content(props, zh, index, heading, _numbers(text))

    return respond


def cli_script(path: Path, topic: str, slides: int, *, zh: bool = False,
               charts: bool = False) -> Path:
    """Write a ``scripted:PATH`` file whose rules answer one CLI deck run.

    The outline is fixed by the rules, so each slide request is matched by its
    index; ``charts`` must say whether the topic holds two or more numbers.
    """
    agenda = slides >= 7
    count = slides - 2 - (1 if agenda else 0)
    kinds = ["bullets", "compare", "table"] + (["chart"] if charts else [])
    outline_schema = {"properties": {"slides": {"minItems": count, "items": {"properties": {
        "kind": {"enum": kinds}}}}}}
    outline = _outline(outline_schema, zh, topic)
    numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", topic)]
    rules = []
    for i, plan in enumerate(outline["slides"], 1):
        props: dict[str, Any] = {{"compare": "left", "table": "cols", "chart": "chart",
                                  "bullets": "points"}[plan["kind"]]: {}}
        reply = _content(props, zh, i, plan["head"], numbers)
        needle = f"第 {i} 张幻灯片的内容" if zh else f"content of slide {i}:"
        rules.append({"contains": needle, "reply": reply})
    rules.append({"contains": "为以下主题规划" if zh else "Plan a slide deck", "reply": outline})
    path.write_text(json.dumps({"rules": rules}, ensure_ascii=False), encoding="utf-8")
    return path
