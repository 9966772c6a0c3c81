"""``connector status`` in words: the status snapshot, line for line as the tray says it.

The first line is the tray's tooltip's first line, and each company's first line is its line in
the tray's menu; the details below them are the status window's.
"""

from __future__ import annotations

from datetime import datetime

from agent.status.link_status import AgentStatus, LinkStatus
from agent.status.status_rules import moment_text, when


def describe(status: AgentStatus, now: datetime) -> str:
    lines = [f"Connector: {status.headline}"]
    if status.pause_note:
        lines.append(status.pause_note)
    if status.links:
        lines.append(f"Last successful sync: {when(status.last_successful_sync, now)}")
    if status.sync_window:
        lines.append(f"Syncs only {status.sync_window}")
    if status.credentials_in_plain_file:
        lines.append("Warning: credentials are kept in a plain file on this PC.")
    if not status.links:
        lines.append("Link a company with `connector link LINK_URL --book BOOK`.")
    for link in status.links:
        lines.append("")
        lines += _describe_link(link, now)
    return "\n".join(lines)


def _describe_link(link: LinkStatus, now: datetime) -> list[str]:
    lines = [
        link.line,
        f"  connection: {link.connection_id}",
        f"  book: {link.book_path}",
    ]
    if link.pending_reports:
        lines.append(f"  updates waiting to be sent to the cloud: {link.pending_reports}")
    lines += [f"  needs attention: {problem.message}" for problem in link.problems]
    if link.cloud_problem:
        lines.append(f"  the cloud could not be asked: {link.cloud_problem}")
    cloud = link.cloud
    if cloud is None:
        return lines
    lines.append(
        f"  in the cloud (as of {moment_text(cloud.fetched_at, now)}): "
        f"connection {cloud.connection_status}"
    )
    for entry in cloud.data_types:
        if entry.status is None:
            continue  # never asked for: nothing to say
        last = entry.last_successful_sync
        lines.append(
            f"    {entry.data_type:<18} {entry.status:<14} "
            f"last success {moment_text(last, now) if last else 'never'}"
        )
    return lines
