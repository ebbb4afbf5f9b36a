/** The page's stylesheet: system fonts only, nothing loaded from elsewhere. */
export const PREVIEW_STYLES = `
:root { --ink: #1d1f23; --muted: #6b7078; --line: #dfe2e6; --bg: #f5f6f8; --accent: #0a7766; --bad: #b42318; --bad-bg: #fef3f2; }
* { box-sizing: border-box; }
html, body { height: 100%; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink); background: var(--bg); display: flex; flex-direction: column; }
[hidden] { display: none !important; }
.bar { display: flex; align-items: center; gap: 24px; padding: 10px 20px; background: #fff; border-bottom: 1px solid var(--line); }
.bar h1 { font-size: 16px; margin: 0; }
.bar nav { display: flex; gap: 4px; }
.bar nav a { padding: 6px 12px; border-radius: 6px; color: var(--ink); text-decoration: none; }
.bar nav a.active { background: var(--bg); font-weight: 600; }
.count { display: inline-block; min-width: 20px; padding: 0 6px; border-radius: 10px; background: var(--line); font-size: 12px; text-align: center; }
.live { margin-left: auto; font-size: 12px; color: var(--muted); }
.live::before { content: ""; display: inline-block; width: 8px; height: 8px; margin-right: 6px; border-radius: 50%; background: #c4c8cf; }
.live.on::before { background: #12b76a; }
.layout { flex: 1; display: flex; min-height: 0; }
aside { width: 300px; flex: none; overflow: auto; background: #fff; border-right: 1px solid var(--line); padding: 12px 0; }
main { flex: 1; overflow: auto; padding: 20px 24px; min-width: 0; }
.list { list-style: none; margin: 0; padding: 0; }
.list a { display: block; padding: 6px 20px; color: var(--ink); text-decoration: none; }
.list a:hover { background: var(--bg); }
.list a.active { background: #e6f4f1; box-shadow: inset 3px 0 var(--accent); }
.template-name { display: block; padding: 8px 20px 2px; font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.template-locales { display: block; padding: 0 20px 2px; color: var(--muted); font-size: 12px; }
.template > ul { list-style: none; margin: 0; padding: 0; }
.template > ul a { padding-left: 32px; }
.preview-default { color: var(--muted); font-style: italic; }
#mail-list a { border-bottom: 1px solid var(--bg); }
#mail-list .subject { display: block; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#mail-list .meta { display: block; color: var(--muted); font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#mail-list li.new a { animation: arrive 1.5s ease-out; }
@keyframes arrive { from { background: #d1fadf; } to { background: transparent; } }
.badge { display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 4px; font-size: 11px; font-weight: 600; background: var(--bad-bg); color: var(--bad); }
.note { color: var(--muted); padding: 0 20px; }
ul.note { list-style: none; margin: 16px 0 0; font-size: 12px; }
ul.note li { margin-bottom: 6px; color: #93370d; }
main > .note { padding: 0; }
.muted { color: var(--muted); font-size: 12px; }
#mail-subject { margin: 0 0 8px; font-size: 20px; }
#summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 16px; }
#summary dt { color: var(--muted); }
#summary dd { margin: 0; word-break: break-word; }
.toolbar { display: flex; align-items: center; gap: 16px; border-bottom: 1px solid var(--line); margin-bottom: 16px; flex-wrap: wrap; }
.tabs, .widths { display: flex; gap: 2px; }
.toolbar button { font: inherit; border: 0; background: none; padding: 8px 12px; cursor: pointer; color: var(--muted); border-bottom: 2px solid transparent; }
.toolbar button[aria-selected="true"], .toolbar button[aria-pressed="true"] { color: var(--ink); border-bottom-color: var(--accent); font-weight: 600; }
.widths { margin-left: auto; }
.frame-box { width: 100%; margin: 0 auto; transition: width 0.2s; }
.frame-box.mobile { width: 375px; }
#mail-frame { display: block; width: 100%; height: 70vh; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
pre { margin: 0; padding: 12px; background: #fff; border: 1px solid var(--line); border-radius: 6px; overflow: auto; white-space: pre-wrap; word-break: break-word; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
#mail-headers { border-collapse: collapse; width: 100%; background: #fff; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
#mail-headers th, #mail-headers td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--bg); word-break: break-word; }
#mail-headers th { white-space: nowrap; color: var(--muted); font-weight: 600; }
#mail-attachments { list-style: none; padding: 0; margin: 0; display: grid; gap: 8px; }
#mail-attachments li { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; display: flex; align-items: center; gap: 12px; }
#mail-attachments img { max-width: 96px; max-height: 64px; }
.error { border: 1px solid #fecdca; background: var(--bad-bg); color: var(--bad); border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; }
.error h2 { margin: 0 0 4px; font-size: 15px; }
.error pre { background: #fff; border-color: #fecdca; color: var(--ink); }
.error .where { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 4px 0 8px; }
.error .hint { color: var(--ink); margin: 8px 0 0; font-size: 12px; }
`;
