"""The dashboard's HTML, rendered on the server: one shell per page, fragments the page refreshes.

The shell holds a little JavaScript (no build step, nothing fetched from elsewhere): every element with
``data-fragment`` is loaded from that URL and reloaded every second, with the API key the user typed
(kept in the browser's localStorage) as a bearer token. A 401 shows the key form instead.
"""

from collections.abc import Iterable
from datetime import datetime
from html import escape

from agentbatch.domain.batches import Batch, BatchItem
from agentbatch.domain.messages import Message
from agentbatch.store.callbacks import DeliveryAttempt

_STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#1d232a}a{color:#1a5fb4}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{padding:.3rem .5rem;
border-bottom:1px solid #ddd;text-align:left;vertical-align:top}th{background:#f4f5f7}
.bar{width:220px;height:12px;background:#e6e6e6;border-radius:6px;overflow:hidden;display:inline-block}
.bar span{display:block;height:100%;background:#2ec27e}.err{color:#c01c28}.muted{color:#777}
.msg{border-left:4px solid #ccc;padding:.3rem .7rem;margin:.5rem 0;white-space:pre-wrap}
.user{border-color:#1a5fb4}.assistant{border-color:#2ec27e}.tool{border-color:#e5a50a}
code{background:#f4f5f7;padding:0 .2rem}#key{display:none}
"""

_SCRIPT = """
const key = () => localStorage.getItem('agentbatch-key') || '';
async function load(el) {
  const url = el.dataset.fragment + (el.dataset.query || '');
  const headers = key() ? {Authorization: 'Bearer ' + key()} : {};
  const response = await fetch(url, {headers});
  if (response.status === 401) { document.getElementById('key').style.display = 'block'; return; }
  document.getElementById('key').style.display = 'none';
  el.innerHTML = await response.text();
}
function refresh() { document.querySelectorAll('[data-fragment]').forEach(load); }
function saveKey(form) { localStorage.setItem('agentbatch-key', form.key.value); refresh(); return false; }
function filter(select) {
  const target = document.getElementById(select.dataset.target);
  target.dataset.query = select.value ? '?status=' + encodeURIComponent(select.value) : '';
  load(target);
}
refresh(); setInterval(refresh, 1000);
"""


def shell(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)} · agentbatch</title>"
        f"<style>{_STYLE}</style></head><body><p><a href='/dashboard'>agentbatch</a></p>"
        "<form id='key' onsubmit='return saveKey(this)'><p>This server needs an API key.</p>"
        "<input name='key' type='password' placeholder='API key' autocomplete='off'> "
        "<button type='submit'>Use key</button></form>"
        f"{body}<script>{_SCRIPT}</script></body></html>"
    )


def status_filter(target: str, statuses: Iterable[str]) -> str:
    options = "".join(f"<option value='{escape(s)}'>{escape(s)}</option>" for s in statuses)
    return (
        f"<label>status <select id='filter-{target}' data-target='{target}' onchange='filter(this)'>"
        f"<option value=''>all</option>{options}</select></label>"
    )


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _seconds(ns: int | None) -> str:
    return f"{ns / 1e9:.2f} s" if ns is not None else ""


def progress(batch: Batch) -> str:
    counts = batch.counts
    done = counts.succeeded + counts.errored + counts.cancelled + counts.expired
    share = 100 * done / max(1, batch.request_count)
    return (
        f"<span class='bar' title='{done}/{batch.request_count}'>"
        f"<span style='width:{share:.1f}%'></span></span>"
        f" <span class='done'>{done}/{batch.request_count}</span>"
    )


def _counts(batch: Batch) -> str:
    c = batch.counts
    return (
        f"pending <b class='n-pending'>{c.pending}</b> · running <b class='n-running'>{c.running}</b> · "
        f"succeeded <b class='n-succeeded'>{c.succeeded}</b> · "
        f"errored <b class='n-errored'>{c.errored}</b> · "
        f"cancelled {c.cancelled} · expired {c.expired}"
    )


def batches_table(found: list[Batch]) -> str:
    if not found:
        return "<p class='muted'>No batches.</p>"
    rows = "".join(
        f"<tr data-batch='{escape(b.id)}'>"
        f"<td><a href='/dashboard/batches/{escape(b.id)}'>{escape(b.id)}</a></td>"
        f"<td class='status'>{escape(b.status.value)}</td><td>{progress(b)}</td><td>{_counts(b)}</td>"
        f"<td>{b.usage.step_count}</td><td>{_when(b.created_at)}</td></tr>"
        for b in found
    )
    return (
        "<table><tr><th>batch</th><th>status</th><th>progress</th><th>requests</th><th>steps</th>"
        f"<th>created</th></tr>{rows}</table>"
    )


def batch_detail(batch: Batch, items: list[BatchItem], deliveries: list[DeliveryAttempt]) -> str:
    head = (
        f"<h2>{escape(batch.id)} <span class='status'>{escape(batch.status.value)}</span></h2>"
        f"<p>{progress(batch)} {_counts(batch)} · steps {batch.usage.step_count} · "
        f"tokens {batch.usage.prompt_tokens + batch.usage.completion_tokens}</p>"
    )
    rows = "".join(
        f"<tr data-item='{escape(i.id)}'><td>{i.position}</td>"
        f"<td><a href='/dashboard/batches/{escape(batch.id)}/agents/{escape(i.agent_id)}'>"
        f"{escape(i.agent_id)}</a></td>"
        f"<td class='status'>{escape(i.status.value)}</td><td>{escape(i.stop_reason or '')}</td>"
        f"<td>{i.step_count}</td><td>{i.prompt_tokens + i.completion_tokens}</td>"
        f"<td>{_seconds(i.ttft_ns)}</td><td>{_seconds(i.duration_ns)}</td>"
        f"<td class='err'>{escape(i.error or '')}</td></tr>"
        for i in items
    )
    table = (
        "<table><tr><th>#</th><th>agent</th><th>status</th><th>stop reason</th><th>steps</th><th>tokens</th>"
        f"<th>first token</th><th>duration</th><th>error</th></tr>{rows}</table>"
    )
    return (
        head + "<h3>Requests</h3>" + table + "<h3>Callback deliveries</h3>" + _deliveries(batch, deliveries)
    )


def _deliveries(batch: Batch, deliveries: list[DeliveryAttempt]) -> str:
    if batch.callback_url is None:
        return "<p class='muted'>No callback_url.</p>"
    if not deliveries:
        return f"<p class='muted'>Nothing sent yet to <code>{escape(batch.callback_url)}</code>.</p>"
    rows = "".join(
        f"<tr><td>{escape(d.webhook_id)}</td><td>{d.attempt}</td><td>{_when(d.attempted_at)}</td>"
        f"<td>{d.status_code if d.status_code is not None else 'not reached'}</td>"
        f"<td>{d.latency_ms:.1f} ms</td>"
        f"<td class='err'>{escape(d.error or '')}</td><td>{_when(d.next_attempt_at)}</td></tr>"
        for d in deliveries
    )
    return (
        f"<p>to <code>{escape(batch.callback_url)}</code></p><table><tr><th>webhook-id</th><th>attempt</th>"
        f"<th>at</th><th>status</th><th>latency</th><th>error</th><th>next attempt</th></tr>{rows}</table>"
    )


def conversation(found: list[Message]) -> str:
    if not found:
        return "<p class='muted'>No messages yet.</p>"
    parts = []
    for message in found:
        role = message.role.value
        texts = [str(part.get("text", "")) for part in message.content if part.get("type") in ("text", None)]
        body = escape("\n".join(texts))
        for call in message.tool_calls:
            body += (
                f"<div class='tool-call'>→ <code>{escape(call.name)}({escape(call.arguments)})</code></div>"
            )
        for result in message.tool_returns:
            shown = escape(result.content[:2000])
            body += f"<div class='tool-result'>← {escape(result.status)}: <code>{shown}</code></div>"
        parts.append(f"<div class='msg {escape(role)}'><b>{escape(role)}</b> {body}</div>")
    return "".join(parts)
