"""Refs: HEAD, a branch, a tag, an annotated tag, a SHA (also off any tip); changing ref or repo."""

from __future__ import annotations

from pathlib import Path

import pytest

from podkit.git_sync import GitSync
from tests.git_sync.git_sync_support import Upstream, git, link_hash, make_settings, one_time
from tests.support.waits import async_wait_until


async def test_head_is_the_default_ref(upstream: Upstream, tmp_path: Path) -> None:
    sha = git("rev-parse", "HEAD", cwd=upstream.work)
    assert await one_time(upstream, tmp_path / "root") == 0
    assert link_hash(tmp_path / "root" / "link") == sha


async def test_branch_ref(upstream: Upstream, tmp_path: Path) -> None:
    upstream.checkout("feature", create=True)
    sha = upstream.commit({"file": "feature\n"}, "feature", branch="feature")
    upstream.checkout("main")
    upstream.commit({"file": "main\n"}, "main moves on")
    assert await one_time(upstream, tmp_path / "root", ref="feature") == 0
    link = tmp_path / "root" / "link"
    assert link_hash(link) == sha
    assert (link / "file").read_text() == "feature\n"


@pytest.mark.parametrize("annotated", [False, True], ids=["lightweight", "annotated"])
async def test_tag_ref(upstream: Upstream, tmp_path: Path, annotated: bool) -> None:
    sha = upstream.tag("v1.0", annotated=annotated)
    upstream.commit({"file": "later\n"}, "after the tag")
    assert await one_time(upstream, tmp_path / "root", ref="v1.0") == 0
    link = tmp_path / "root" / "link"
    assert link_hash(link) == sha  # an annotated tag is peeled to its commit
    assert (link / "file").read_text() == "one\n"


async def test_sha_ref_off_the_tip_syncs_and_stops_polling(
    upstream: Upstream, tmp_path: Path
) -> None:
    old = git("rev-parse", "HEAD", cwd=upstream.work)
    upstream.commit({"file": "two\n"}, "second")
    root = tmp_path / "root"
    settings = make_settings(upstream, root, ref=old)
    async with GitSync(settings) as sync:
        await async_wait_until(lambda: link_hash(root / "link") == old, what="sha sync")
        # the sync loop ends once the commit is published; the service keeps running
        await async_wait_until(lambda: "git-sync:sync" not in {t.get_name() for t in sync._tasks})
        assert sync.sync_count == 1  # with the loop gone, no further sync can happen
        assert not sync.stopping
    assert (root / "link" / "file").read_text() == "one\n"


async def test_bad_ref_fails(upstream: Upstream, tmp_path: Path) -> None:
    assert await one_time(upstream, tmp_path / "root", ref="no-such-branch") == 1
    assert not (tmp_path / "root" / "link").exists()


async def test_changing_ref_and_repo_across_restarts(upstream: Upstream, tmp_path: Path) -> None:
    root = tmp_path / "root"
    assert await one_time(upstream, root) == 0
    tagged = upstream.tag("release")
    upstream.commit({"file": "newer\n"}, "newer")
    assert await one_time(upstream, root, ref="release") == 0
    assert link_hash(root / "link") == tagged
    (tmp_path / "other-base").mkdir()
    other = Upstream(tmp_path / "other-base", "other")
    other_sha = other.commit({"other": "x\n"}, "other repo")
    assert await one_time(upstream, root, repo=other.url) == 0
    assert link_hash(root / "link") == other_sha
    assert (root / "link" / "other").read_text() == "x\n"
    assert git("remote", "get-url", "origin", cwd=root) == other.url
