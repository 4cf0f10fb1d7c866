"""Slide headings: which are too generic, which name the same slide, and candidates by code.

Why a module of its own: the default model's Chinese deck on "开源大模型为何受到开发者欢迎"
was planned as 技术层面 / 经济层面 / 社会层面 / 技术与经济的结合. Those headings share no
two-character word with each other (so a plain likeness measure passes them), none
says anything about the topic, and slides written under them said the same things,
so three were dropped as repeats and a 6-slide request gave 3 slides. Here:

* :func:`vague` — a heading made only of generic words (aspect, level, analysis,
  benefits, 层面, 方面, 分析, 技术, 经济…) with none of the topic's own words;
* :func:`alike` — two headings that name the same slide: near-identical wording
  (word and character-bigram overlap), or the same template ("X 层面" / "Y 层面",
  "Technical aspects" / "Economic aspects") once the generic frame is taken out;
* :func:`candidates` — headings proposed by code from the sources' section titles
  and from the topic's subject joined to common aspects, for when the model's own
  alternatives run out: a deck keeps the number of slides asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .checks import likeness, tokens, without_subject

__all__ = ["alike", "bare", "candidates", "sides_of", "subject_of", "vague"]

def _split(words: str) -> list[str]:
    return words.split()


# Words that could head a slide of any deck. A heading made of these alone (and no word
# of the topic) says nothing about the topic.
_EN_GENERIC = frozenset(_split("""
a an the of and or in on for to with by at from as about its their our your this that these
those what why how who when where which is are be it they them vs versus more key main
overview introduction background summary conclusion conclusions outlook future trends trend
aspect aspects level levels side sides dimension dimensions perspective perspectives factor
factors analysis analyses view views issue issues topic topics point points area areas part
parts role roles importance significance impact impacts effect effects influence benefit
benefits advantage advantages disadvantage disadvantages challenge challenges risk risks
opportunity opportunities limitation limitations drawback drawbacks pros cons strength
strengths weakness weaknesses feature features application applications use uses case cases
example examples detail details fact facts thing things reason reasons cause causes
technical technological technology economic economics economy social society societal
political policy cultural environmental legal business commercial financial practical
general basic basics fundamentals concept concepts definition definitions scope context
current present past next steps step process timeline history comparison data figures
combination integration relationship relation between together final thoughts takeaways
takeaway lessons lesson q a questions agenda thank you popular popularity important
some various several many different other using significant do does
"""))

# Chinese generic words, longest first (removed from a heading before what is left is judged)
_ZH_GENERIC = sorted(_split("""
层面 方面 角度 维度 视角 因素 分析 概述 简介 介绍 背景 总结 结论 展望 未来 趋势 发展 现状 前景
影响 作用 意义 价值 重要性 优势 劣势 优点 缺点 挑战 机遇 机会 风险 问题 局限 局限性 特点 特征
应用 用途 案例 示例 原因 理由 结合 融合 关系 相互 之间 对比 比较 技术 技术性 经济 社会 政治 文化
环境 法律 商业 市场 政策 基本 基础 概念 定义 范围 主要 关键 核心 重要 其他 一些 总体 整体 综合
方向 前沿 层次 领域 部分 内容 情况 过程 流程 步骤 历程 时间线 数据 数字 要点 下一步 问答 谢谢
目录 议程 为何 为什么 如何 怎样 什么 哪些 受到 欢迎 以及 及其 与 和 及 的 之 对 在 中 上 下 与其
"""), key=len, reverse=True)

_LATIN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", re.IGNORECASE)
_HAN = re.compile(r"[\u4e00-\u9fff]+")


def _han_pairs(text: str) -> set[str]:
    return {run[i : i + 2] for run in _HAN.findall(text) for i in range(len(run) - 1)}


def _stem(heading: str) -> tuple[set[str], str]:
    """What a heading says beyond generic words: its Latin words (lower case) and its
    Han text with the generic words taken out."""
    words = {w.lower() for w in _LATIN.findall(heading)}
    words = {w for w in words if w not in _EN_GENERIC and not w.isdigit()}
    han = "".join(_HAN.findall(heading))
    for g in _ZH_GENERIC:
        han = han.replace(g, " ")
    return words, "".join(han.split())


def _topic_terms(topic: str) -> tuple[set[str], set[str]]:
    words = {w.lower() for w in _LATIN.findall(topic) if w.lower() not in _EN_GENERIC}
    words |= {w.rstrip("s") for w in words if len(w) > 4}
    return words, _han_pairs(topic)


def vague(heading: str, topic: str = "") -> bool:
    """A heading with none of the topic's words and only generic ones ("技术层面",
    "Economic aspects", "技术与经济的结合", "Key benefits"): it could top any deck."""
    words, han = _stem(heading)
    if topic:
        tw, tp = _topic_terms(topic)
        lowered = {w.lower() for w in _LATIN.findall(heading)}
        if lowered & tw or {w.rstrip("s") for w in lowered} & tw or _han_pairs(heading) & tp:
            return False
    return not words and len(han) < 2


def bare(heading: str, topic: str) -> bool:
    """A heading that names the topic and nothing else but generic words ("Advantages of
    Open-Weight Models", "What is the significance of open-weight models?", "开源大模型的
    未来发展趋势"). Such slides say what the others say: the 1.5B's en-topic deck
    (2026-12-03) wrote two of them and replaced each twice, with more of the same."""
    if not topic:
        return False
    words, han = _stem(without_subject(heading, topic))
    return not words and len(han) < 2


# The words of a templated series of headings: "技术层面 / 经济层面 / 社会层面",
# "Technical aspects / Economic aspects", "成本分析 / 风险分析"
_FRAME_EN = re.compile(r"\b(?:aspects?|levels?|perspectives?|dimensions?|sides?|factors?|"
                       r"analysis|view|considerations?|implications?|impacts?|benefits?|"
                       r"advantages?|challenges?|issues?|overview)\b", re.IGNORECASE)
_FRAME_ZH = re.compile(r"层面|方面|角度|维度|视角|分析|因素|考量|影响|优势|挑战|问题|概述|意义")


def _frame(heading: str) -> tuple[str, int]:
    """A heading's template: its frame words kept, everything else one slot ("_层面"),
    and the length of the longest slot (in characters)."""
    h = " ".join(heading.lower().split())
    marks = [(m.start(), m.end()) for m in (*_FRAME_EN.finditer(h), *_FRAME_ZH.finditer(h))]
    if not marks:
        return "", 0
    marks.sort()
    out, slot, pos = [], 0, 0
    for a, b in marks:
        if a < pos:
            continue
        gap = h[pos:a].strip()
        if gap:
            out.append("_")
            slot = max(slot, len(gap) if " " not in gap else 99)
        out.append(h[a:b])
        pos = b
    gap = h[pos:].strip(" ?？")
    if gap:
        out.append("_")
        slot = max(slot, len(gap) if " " not in gap else 99)
    return " ".join(out), slot


# Han characters that join or qualify and say nothing of a heading's subject
_HAN_GLUE = re.compile(r"[的之与和及或等其]|以及|主要|关键|核心")


def _core(heading: str, topic: str) -> tuple[str, frozenset[str]]:
    """What a heading says about the topic: its Han text without the topic's characters
    and joining ones, and its Latin words without the topic's and generic ones."""
    rest = without_subject(heading, topic) if topic else heading
    han = _HAN_GLUE.sub("", "".join(_HAN.findall(rest)))
    words = frozenset(w.lower().rstrip("s") for w in _LATIN.findall(rest)
                      if w.lower() not in _EN_GENERIC)
    return han, words


def _same_core(a: str, b: str, topic: str) -> bool:
    """One heading's core within the other's, the longer adding a word at most, or the
    same characters reordered: "开源大模型的透明度" beside "开源大模型的开放性与透明度" (a
    的 and a 与 apart, which character pairs miss: 0.7), "降低成本" / "成本的降低",
    "Cost savings" / "Cost savings for startups"."""
    (ha, wa), (hb, wb) = _core(a, topic), _core(b, topic)
    if ha and hb and not wa and not wb:
        short, long_ = sorted((ha, hb), key=len)
        if len(short) >= 2 and short in long_ and len(long_) - len(short) <= 3:
            return True  # within, and the longer adds a word at most (not a whole subject)
        common = sum(min(ha.count(c), hb.count(c)) for c in set(ha))
        return len(short) >= 3 and 2 * common / (len(ha) + len(hb)) >= 0.85
    if wa and wb and not ha and not hb:
        short_w, long_w = sorted((wa, wb), key=len)
        return len(short_w) >= 2 and short_w <= long_w and len(long_w) - len(short_w) <= 1
    return False


def alike(a: str, b: str, topic: str = "") -> bool:
    """Whether two headings name the same slide: near-identical words or character pairs
    (with and without the topic's words), one's words or characters within the other's
    (:func:`_same_core`), or the same generic template with a one-word slot ("技术层面" /
    "经济层面", "Technical aspects" / "Social aspects")."""
    if likeness(a, b) >= 0.75 or _same_core(a, b, topic):
        return True
    if topic:
        sa, sb = without_subject(a, topic), without_subject(b, topic)
        if len(tokens(sa)) >= 2 and len(tokens(sb)) >= 2 and likeness(sa, sb) >= 0.8:
            return True
        if not tokens(sa) and not tokens(sb):
            return True  # both only the topic's words
    (fa, la), (fb, lb) = _frame(a), _frame(b)
    short = 4 if _HAN.search(a + b) else 16  # the slot is one word: a series, not slides
    return bool(fa) and fa == fb and fa.count("_") == 1 and max(la, lb) <= short


# ---------------------------------------------------------------- candidates by code

_EN_LEAD = re.compile(r"^(?:why|how|what|when|where|whether|which|who)\s+(?:do|does|did|are|is|"
                      r"can|could|should|will|would)?\s*", re.IGNORECASE)
_EN_VERB = re.compile(r"\s+(?:are|is|was|were|can|could|should|will|would|have|has|do|does|"
                      r"gain|gains|gaining|lead|leads|leading|make|makes|matter|matters|"
                      r"become|becomes|get|gets|help|helps|win|wins|change|changes|"
                      r"work|works)\b.*$", re.IGNORECASE)
_ZH_SPLIT = re.compile(r"为何|为什么|如何|怎样|怎么|是否|能否|的主要|的意义|受到|正在|对于")

# neutral aspects (any subject): what it is, who gains, what it costs, what stands in the way
_EN_ASPECTS = ("Who gains most from {s}", "What {s} cost, and who pays",
               "Evidence so far on {s}", "Obstacles that slow {s}", "First steps with {s}",
               "How to measure progress on {s}", "Lessons from early {s}", "Where {s} go next")
_ZH_ASPECTS = ("{s}的主要受益者", "{s}的成本与投入", "{s}的实际证据", "{s}面临的障碍",
               "{s}的入门步骤", "衡量{s}进展的指标", "{s}的早期经验", "{s}的下一步")


def subject_of(topic: str) -> str:
    """The thing a topic is about ("open-weight language models" of "Why open-weight
    language models are gaining adoption among developers"; 开源大模型 of
    开源大模型为何受到开发者欢迎); "" when none can be told."""
    t = " ".join(topic.split()).strip(" ?？。.!！")
    if _HAN.search(t):
        head = _ZH_SPLIT.split(t, maxsplit=1)[0].strip()
        return head if 2 <= len(head) <= 12 else ""
    s = _EN_VERB.sub("", _EN_LEAD.sub("", t)).strip(" ,:;")
    s = re.sub(r"^(?:the|a|an)\s+", "", s, flags=re.IGNORECASE)
    words = s.split()
    return s if (len(words) >= 2 or "-" in s) and len(words) <= 6 and len(s) <= 48 else ""


_MARKER = re.compile(r"^(?:(?:pages?|pp?\.|sheet|slide|rows?|lines?|part|chapter|section|"
                     r"table|§)\s*[\dIVXivx.\-–, ]+|第\s*\S+\s*[页条章节]|[\d.\-–, ]+)$",
                     re.IGNORECASE)


def candidates(topic: str, zh: bool, section_titles: Sequence[str] = ()) -> list[str]:
    """Headings code can propose, most specific first: the sources' own section titles,
    then the topic's subject joined to common aspects (cost, licences, privacy...)."""
    out: list[str] = []
    for t in section_titles:
        t = " ".join(t.split()).strip(" #:：")
        if _MARKER.match(t):
            continue  # "page 12", "sheet 1", "第3页": a place, not a subject
        if 4 <= len(t) <= (24 if zh else 64) and not vague(t, topic) and t not in out:
            out.append(t)
    s = subject_of(topic)
    if s:
        aspects = _ZH_ASPECTS if zh else _EN_ASPECTS
        out += [a.format(s=s) for a in aspects]
    return out


_SIDES = re.compile(r"^(?P<a>.{2,40}?)\s*(?:\bvs\.?|\bversus\b|\bor\b|\bagainst\b|\bcompared "
                    r"(?:to|with)\b|对比|与|和|还是|相比)\s*(?P<b>.{2,40}?)[?？]?$", re.IGNORECASE)


def sides_of(heading: str) -> tuple[str, str] | None:
    """The two things a heading sets side by side ("Open-Weight vs. Closed-Weight
    Models" → "Open-Weight", "Closed-Weight Models"; 开源模型与闭源接口), or None."""
    m = _SIDES.match(" ".join(heading.split()).strip())
    if m is None:
        return None
    a, b = m.group("a").strip(" :：,，"), m.group("b").strip(" :：,，")
    # "Comparing Open-Weight vs. Fine-Tuned Models" (the 1.5B): the side is "Open-Weight"
    a = re.sub(r"^(?:comparing|compare|comparison of|choosing between|choosing|对比|比较)\s*",
               "", a, flags=re.IGNORECASE).strip(" :：,，")
    b = re.sub(r"(?:的)?(?:对比|比较|之争|之别|差异)$", "", b).strip()
    if not a or not b or a.lower() == b.lower():
        return None
    wa, wb = a.split(), b.split()
    if not _HAN.search(a + b) and len(wa) == 1 and len(wb) >= 2 and \
            wb[-1].lower() not in a.lower():
        a = f"{a} {wb[-1]}"  # "Open-Weight vs. Fine-Tuned Models": "Open-Weight Models"
    return a[0].upper() + a[1:], b[0].upper() + b[1:]  # column headings: "Closed APIs"
