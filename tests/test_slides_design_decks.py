"""Sample decks with every slide kind, short and long text, English and Chinese.

Shared by the design tests and by the previews in docs/img (see
``render_previews``), so what the tests measure is what the README shows.
"""

from __future__ import annotations

from qwenapp.slides import Chart, Column, Deck, Series, Slide, SourceRef, Table
from qwenapp.slides.deck import Quote, Stat, Step

__all__ = ["edge_cases", "every_kind"]

_EN = {
    "title": "Why open-weight models are winning developers",
    "sub": "What changed in 2024, and what it means for our platform",
    "agenda": ["Why now", "What developers get", "Cost", "Adoption", "Next steps"],
    "section": "What developers get",
    "b2": ["Weights you can run anywhere", "Licences that allow products"],
    "b4": ["Run on a laptop", "Fine-tune on one GPU", "Ship under Apache 2.0",
           "Audit every weight"],
    "b6": ["Open weights let a team run the model on its own hardware, with no data leaving",
           "Apache 2.0 licensing allows commercial products without a separate agreement",
           "Quantised builds run on an ordinary laptop CPU at useful speeds",
           "Fine-tuning on one GPU adapts a model to a domain in an afternoon",
           "A wide range of sizes lets a team trade quality against cost",
           "An active community ships tools, adapters and evaluations every week"],
    "cmp": ("Hosted API", ["Pay per token", "No hardware to run", "Data leaves the company"],
            "Open weights", ["Fixed hardware cost", "Runs on premises", "Data stays inside"]),
    "kpi": [("40 M", "monthly downloads of Qwen models"), ("120 k", "derived models on the Hub"),
            ("29", "languages supported")],
    "quote": ("Open models turned AI from a service we rent into a tool we own.",
              "an engineering lead, developer survey 2024"),
    "steps": [("Pick a size", "Match the model to the hardware you have"),
              ("Quantise", "Shrink it to 4 bits with little loss"),
              ("Fine-tune", "Adapt it to your domain on one GPU"),
              ("Ship", "Serve it behind an OpenAI-compatible API")],
    "events": [("2023", "First open release"), ("2024 Q1", "Sizes from 0.5B to 72B"),
               ("2024 Q3", "Coder and math models"), ("2025", "Reasoning models")],
    "chart": (["Q1", "Q2", "Q3", "Q4"], [12, 18, 27, 40], "Downloads (millions)",
              "Downloads more than tripled in a year"),
    "table": (["Model", "Sizes", "Best for"],
              [["Qwen2.5", "0.5B-72B", "General chat"], ["Qwen2.5-Coder", "0.5B-32B", "Code"],
               ["Qwen2.5-Math", "1.5B-72B", "Maths"]],
              "Every family has a size that runs on a laptop"),
    "closing": ("Thank you", "Questions?"),
    "heads": ["Two reasons teams switch", "What a small team can do", "Six reasons it sticks",
              "Hosted API or open weights", "Adoption in numbers", "What developers say",
              "From download to production", "Two years of releases", "Downloads per quarter",
              "Quarter by quarter", "The model family"],
}

_ZH = {
    "title": "开源大模型为何受到开发者欢迎",
    "sub": "二〇二四年的变化，以及它对我们平台的意义",
    "agenda": ["为什么是现在", "开发者得到什么", "成本", "采用情况", "下一步"],
    "section": "开发者得到什么",
    "b2": ["权重可以在任何地方运行", "许可证允许商业产品"],
    "b4": ["在笔记本电脑上运行", "用一块显卡微调", "以 Apache 2.0 发布", "每个权重都可审计"],
    "b6": ["开放权重让团队在自己的硬件上运行模型，数据不出公司",
           "Apache 2.0 许可证允许商业产品，无需另签协议",
           "量化版本可以在普通笔记本电脑的处理器上以可用的速度运行",
           "用一块显卡微调，一个下午就能让模型适应特定领域",
           "从小到大的多种规模，让团队在质量和成本之间取舍",
           "活跃的社区每周都在发布工具、适配器和评测"],
    "cmp": ("托管接口", ["按词元付费", "无需运维硬件", "数据离开公司"],
            "开放权重", ["硬件成本固定", "可在本地运行", "数据留在内部"]),
    "kpi": [("4000 万", "千问模型的月下载量"), ("12 万", "社区衍生模型"), ("29", "支持的语言")],
    "quote": ("开源模型让人工智能从我们租用的服务，变成了我们拥有的工具。",
              "一位工程负责人，二〇二四年开发者调查"),
    "steps": [("选择规模", "让模型匹配现有的硬件"), ("量化", "压缩到四比特，损失很小"),
              ("微调", "用一块显卡适应业务领域"), ("上线", "通过兼容接口提供服务")],
    "events": [("2023", "首次开源发布"), ("2024 Q1", "覆盖 0.5B 到 72B"),
               ("2024 Q3", "代码与数学模型"), ("2025", "推理模型")],
    "chart": (["一季度", "二季度", "三季度", "四季度"], [12, 18, 27, 40], "下载量（百万）",
              "一年内下载量增长了三倍多"),
    "table": (["模型", "规模", "适用"],
              [["Qwen2.5", "0.5B-72B", "通用对话"], ["Qwen2.5-Coder", "0.5B-32B", "代码"],
               ["Qwen2.5-Math", "1.5B-72B", "数学"]],
              "每个系列都有能在笔记本上运行的规模"),
    "closing": ("谢谢", "欢迎提问"),
    "heads": ["团队转向的两个理由", "小团队能做什么", "留下来的六个原因", "托管接口还是开放权重",
              "采用情况一览", "开发者怎么说", "从下载到上线", "两年来的发布", "每季度下载量",
              "逐季对比", "模型家族"],
}


def _longer(text: str, zh: bool, times: int) -> str:
    if times <= 1:
        return text
    more = ("，并且在实际部署中得到了多个团队的验证和长期使用" if zh
            else ", which several teams have confirmed in production over many months")
    return text + more * (times - 1)


def every_kind(lang: str = "en", long: int = 1) -> Deck:
    """A deck with one slide of every kind (bullets three ways); ``long`` > 1 lengthens the
    sentences of every slide that many times (titles too), to test fitting and splitting."""
    t = _ZH if lang == "zh" else _EN
    zh = lang == "zh"

    def L(x: str) -> str:
        return _longer(x, zh, long)

    src = [SourceRef(id="S1", title="survey.pdf", location="page 3")]
    n = "Speaker notes." if not zh else "演讲备注。"
    cats, vals, series, takeaway = t["chart"]
    head, rows, tk = t["table"]
    lh, lb, rh, rb = t["cmp"]
    qt, qa = t["quote"]
    h = t["heads"]
    slides = [
        Slide(kind="title", title=t["title"], subtitle=L(t["sub"])),
        Slide(kind="agenda", title="Agenda" if not zh else "目录", bullets=t["agenda"], notes=n),
        Slide(kind="section", title=L(t["section"]), subtitle=""),
        Slide(kind="bullets", title=L(h[0]), bullets=[L(b) for b in t["b2"]], notes=n,
              sources=src),
        Slide(kind="bullets", title=L(h[1]), bullets=[L(b) for b in t["b4"]], notes=n),
        Slide(kind="bullets", title=L(h[2]), bullets=[L(b) for b in t["b6"]],
              notes=n),
        Slide(kind="compare", title=L(h[3]), notes=n,
              left=Column(heading=lh, bullets=[L(b) for b in lb]),
              right=Column(heading=rh, bullets=[L(b) for b in rb])),
        Slide(kind="kpi", title=L(h[4]), notes=n,
              stats=[Stat(value=v, label=L(lab)) for v, lab in t["kpi"]]),
        Slide(kind="quote", title=L(h[5]), notes=n,
              quote=Quote(text=L(qt), attribution=qa)),
        Slide(kind="process", title=L(h[6]), notes=n,
              steps=[Step(label=a, text=L(b)) for a, b in t["steps"]]),
        Slide(kind="timeline", title=L(h[7]), notes=n,
              steps=[Step(label=a, text=L(b)) for a, b in t["events"]]),
        Slide(kind="chart", title=L(h[8]), notes=n, takeaway=L(takeaway),
              chart=Chart(type="line", categories=cats,
                          series=[Series(name=series, values=vals)])),
        Slide(kind="chart", title=L(h[9]), notes=n,
              chart=Chart(type="bar", categories=cats, series=[Series(name=series, values=vals)])),
        Slide(kind="table", title=L(h[10]), notes=n, takeaway=L(tk),
              table=Table(header=head, rows=[[L(c) if j == 2 else c for j, c in enumerate(r)]
                                             for r in rows])),
        Slide(kind="closing", title=t["closing"][0], subtitle=t["closing"][1]),
    ]
    return Deck(title=t["title"], subtitle=t["sub"], language=lang, slides=slides)


def edge_cases(lang: str = "en") -> Deck:
    """The odd shapes of content: one bullet, one and four stats, seven steps, a pie, a
    chart with bullets and a takeaway, a quote with bullets, a table that splits."""
    zh = lang == "zh"
    n = "备注。" if zh else "Notes."
    w = (lambda a, b: b if zh else a)  # noqa: E731
    steps = [Step(label=w(f"Step {i}", f"第{i}步"), text=w(f"Do part {i} of the work",
                                                         f"完成第{i}部分工作"))
             for i in range(1, 8)]
    return Deck(title=w("Edge cases", "边界情况"), language=lang, slides=[
        Slide(kind="bullets", title=w("One message", "一句话"), notes=n,
              bullets=[w("Open weights put the model where the data already is",
                         "开放权重让模型留在数据所在的地方")]),
        Slide(kind="kpi", title=w("One number", "一个数字"), notes=n,
              stats=[Stat(value="72B", label=w("parameters in the largest model",
                                                "最大模型的参数量"))]),
        Slide(kind="kpi", title=w("Four numbers", "四个数字"), notes=n,
              bullets=[w("All figures are from the 2024 survey", "数据来自二〇二四年调查")],
              stats=[Stat(value=v, label=lab) for v, lab in
                     [("40 M", w("downloads", "下载")), ("120 k", w("models", "模型")),
                      ("29", w("languages", "语言")), ("0.5B", w("smallest size", "最小规模"))]]),
        Slide(kind="process", title=w("Seven steps", "七个步骤"), notes=n, steps=steps),
        Slide(kind="timeline", title=w("Seven events", "七个事件"), notes=n,
              steps=[s.model_copy(update={"label": str(2019 + i)}) for i, s in enumerate(steps)]),
        Slide(kind="chart", title=w("Share of fine-tunes", "微调份额"), notes=n,
              takeaway=w("Qwen is the most fine-tuned base", "千问是被微调最多的基座"),
              bullets=[w("Llama second", "Llama 第二"),
                       w("Others share a quarter", "其余占四分之一")],
              chart=Chart(type="pie", categories=["Qwen", "Llama", w("Other", "其他")],
                          series=[Series(name="share", values=[45, 30, 25])])),
        Slide(kind="quote", title=w("In their words", "他们的原话"), notes=n,
              quote=Quote(text=w("We switched in a week.", "我们一周就完成了切换。"),
                          attribution=w("a CTO", "一位技术负责人")),
              bullets=[w("Migration took days, not months", "迁移只用了几天")]),
        Slide(kind="table", title=w("Every model", "全部模型"), notes=n,
              table=Table(header=[w("Model", "模型"), w("Size", "规模"), w("Use", "用途")],
                          rows=[[f"Qwen-{i}", f"{i}B", w("General chat and coding help",
                                                         "通用对话与编程辅助")]
                                for i in range(1, 25)])),
    ])
