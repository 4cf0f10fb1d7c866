// UI strings in English and Chinese. t(key, vars) looks up the current language.
const STRINGS = {
  en: {
    newChat: "New chat", search: "Search conversations", chat: "Chat", library: "Library",
    settings: "Settings", send: "Send", stop: "Stop", attach: "Attach files",
    placeholderChat: "Message the assistant…",
    placeholderResearch: "What should the report investigate?",
    placeholderSlides: "What is the deck about?",
    modeChat: "Chat", modeResearch: "Research", modeSlides: "Slides",
    think: "Think", thinking: "Thinking", thought: "Reasoning", copy: "Copy", copied: "Copied",
    regenerate: "Regenerate", edit: "Edit", save: "Save & send", cancel: "Cancel",
    delete: "Delete", rename: "Rename", interrupted: "stopped", error: "Error",
    untitled: "(untitled)", empty: "Ask anything, or pick Research or Slides.",
    depth: "Depth", length: "Length", slides: "Slides", theme: "Theme", audience: "Audience",
    quick: "quick", standard: "standard", deep: "deep", short: "short", medium: "medium",
    long: "long", queued: "Queued", running: "Working…", done: "Done", failed: "Failed",
    cancelled: "Cancelled", plan: "Plan", sources: "Sources", download: "Download",
    documents: "Documents", jobs: "Reports & decks", upload: "Upload", size: "Size",
    kind: "Type", added: "Added", noDocuments: "No documents yet.",
    noJobs: "No reports or decks yet.", login: "Log in", logout: "Log out",
    username: "User name", password: "Password", language: "Language",
    appearance: "Appearance", light: "Light", dark: "Dark", system: "System",
    defaultModel: "Default model", account: "Account", apiKeys: "API keys",
    newKey: "New key", keyName: "Key name", keyShown: "Copy this key now; it is not shown again:",
    revoke: "Revoke", changePassword: "Change password", currentPassword: "Current password",
    newPassword: "New password", passwordChanged: "Password changed. Log in again.",
    localMode: "Single-user mode on this computer: no login needed.",
    confirmDelete: "Delete this conversation?", confirmDeleteDoc: "Delete this document?",
    model: "Model", noSourcesNote: "No documents attached: the report will cite nothing.",
    attached: "Attached", open: "Open", sectionWritten: "Section {index}/{total} written",
    slideWritten: "Slide {index}/{total} written", read: "Read", skipped: "Skipped",
    writing: "Writing", stage: "Stage", reused: "reused", rendering: "Rendering",
    thumbnails: "Slides", report: "Report", deck: "Deck", uploading: "Uploading…",
    ocrPages: "reading: {done} of {total} pages…",
    retry: "Try again", thinkingOn: "Thinking on", noModels: "No models",
    searchWeb: "Search the web",
    askFirst: "Ask me a few questions first", askingQuestions: "Thinking of a few questions…",
    clarifyIntro: "A few questions first (all optional):", yourAnswer: "Your answer",
    audienceHint: "e.g. engineers, students, executives", startJob: "Start",
    skipQuestions: "Skip questions", yourAnswers: "Your answers", showAll: "Show all",
    showLess: "Show less", makeSlides: "Make slides from this report", close: "Close",
    steps: "{n} steps",
    tools: "Tools", toolsIntro: "Tools the assistant may call in a chat (this server offers "
      + "them; turn one off here).", toolAsksFirst: "asks you first",
    toolAsk: "Allow {name} to run?", toolAllow: "Allow", toolDeny: "Don't allow",
    toolAllowed: "Allowed.", toolRefused: "Not allowed.", toolWriting: "calling…",
    toolWaiting: "waiting for you", toolNotAnswered: "not answered", toolRunning: "running…",
    toolFailed: "failed", toolNoResult: "No result yet.", toolStartedJob: "{kind} started",
    myMcp: "My MCP servers", myMcpIntro: "MCP servers of yours (streamable HTTP): their tools "
      + "join your chats and your /v1 requests, and nobody else's.", mcpName: "Name",
    mcpUrl: "https://…/mcp", mcpAdd: "Add", mcpRemove: "Remove",
    mcpAdded: "Added: its tools are listed above.",
  },
  zh: {
    newChat: "新对话", search: "搜索对话", chat: "对话", library: "资料库", settings: "设置",
    send: "发送", stop: "停止", attach: "添加文件", placeholderChat: "给助手发消息…",
    placeholderResearch: "研究报告要调查什么？", placeholderSlides: "演示文稿的主题是什么？",
    modeChat: "对话", modeResearch: "研究", modeSlides: "幻灯片", think: "深度思考",
    thinking: "思考中", thought: "思考过程", copy: "复制", copied: "已复制",
    regenerate: "重新生成", edit: "编辑", save: "保存并发送", cancel: "取消", delete: "删除",
    rename: "重命名", interrupted: "已停止", error: "错误", untitled: "（无标题）",
    empty: "随便问点什么，或选择“研究”或“幻灯片”。", depth: "深度", length: "篇幅",
    slides: "页数", theme: "主题", audience: "受众", quick: "快速", standard: "标准",
    deep: "深入", short: "短", medium: "中", long: "长", queued: "排队中", running: "处理中…",
    done: "完成", failed: "失败", cancelled: "已取消", plan: "大纲", sources: "来源",
    download: "下载", documents: "文档", jobs: "报告与演示文稿", upload: "上传", size: "大小",
    kind: "类型", added: "添加时间", noDocuments: "还没有文档。", noJobs: "还没有报告或演示文稿。",
    login: "登录", logout: "退出登录", username: "用户名", password: "密码", language: "语言",
    appearance: "外观", light: "浅色", dark: "深色", system: "跟随系统",
    defaultModel: "默认模型", account: "账户", apiKeys: "API 密钥", newKey: "新建密钥",
    keyName: "密钥名称", keyShown: "请立即复制此密钥，之后不会再显示：", revoke: "吊销",
    changePassword: "修改密码", currentPassword: "当前密码", newPassword: "新密码",
    passwordChanged: "密码已修改，请重新登录。", localMode: "本机单用户模式：无需登录。",
    confirmDelete: "删除这个对话？", confirmDeleteDoc: "删除这个文档？", model: "模型",
    noSourcesNote: "没有附加文档：报告将不含引用。", attached: "已附加", open: "打开",
    sectionWritten: "第 {index}/{total} 节已完成", slideWritten: "第 {index}/{total} 页已完成",
    read: "已读取", skipped: "已跳过", writing: "正在撰写", stage: "阶段", reused: "沿用",
    rendering: "正在生成文件", thumbnails: "幻灯片", report: "报告", deck: "演示文稿",
    uploading: "上传中…", ocrPages: "正在识别：{done}/{total} 页…",
    retry: "重试", thinkingOn: "已开启思考", noModels: "没有模型",
    searchWeb: "联网搜索",
    askFirst: "先问我几个问题", askingQuestions: "正在想几个问题…",
    clarifyIntro: "先确认几个问题（都可不填）：", yourAnswer: "你的回答",
    audienceHint: "例如：工程师、学生、管理层", startJob: "开始", skipQuestions: "跳过提问",
    yourAnswers: "你的回答", showAll: "展开全文", showLess: "收起", makeSlides: "用这份报告做幻灯片",
    close: "关闭", steps: "{n} 个步骤",
    tools: "工具", toolsIntro: "对话中助手可以调用的工具（由服务器提供；可在此关闭）。",
    myMcp: "我的 MCP 服务器", myMcpIntro: "你自己的 MCP 服务器（可流式传输的 HTTP）：它们的工具只用于"
      + "你的对话和 /v1 请求。", mcpName: "名称", mcpUrl: "https://…/mcp", mcpAdd: "添加",
    mcpRemove: "移除", mcpAdded: "已添加：它的工具列在上方。",
    toolAsksFirst: "会先征得你的同意", toolAsk: "允许运行 {name} 吗？", toolAllow: "允许",
    toolDeny: "不允许", toolAllowed: "已允许。", toolRefused: "未允许。", toolWriting: "调用中…",
    toolWaiting: "等待你的确认", toolNotAnswered: "未答复", toolRunning: "运行中…",
    toolFailed: "失败", toolNoResult: "暂无结果。", toolStartedJob: "{kind}已开始",
  },
};

function initial() {
  const saved = localStorage.getItem("qwenapp.lang");
  if (saved === "en" || saved === "zh") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

let lang = initial();

export function language() { return lang; }

export function setLanguage(value) {
  lang = value === "zh" ? "zh" : "en";
  localStorage.setItem("qwenapp.lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function t(key, vars = {}) {
  const text = (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : ""));
}

// Fill [data-i18n] (text) and [data-i18n-placeholder] / [data-i18n-title] attributes.
export function translate(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
  root.querySelectorAll("[data-i18n-title]").forEach((el) => {
    el.title = t(el.dataset.i18nTitle);
    el.setAttribute("aria-label", el.title);
  });
}
