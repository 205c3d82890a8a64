"""The docs check: links resolve, commands exist, the README stays short.

For README.md and every page under docs/:
- every relative link (``[text](path)``, ``[text](path#anchor)``, ``[ref]: path``) names a file
  or folder that exists, and an anchor names a heading of the target page;
- every ``imagepipe ...`` command in a code block names a real subcommand and only options that
  subcommand's parser knows (the parser of ``imagepipe.pipeline.cli``), and so does every inline
  ``imagepipe ...`` code span as far as it goes.
README.md stays within ``README_MAX_LINES`` lines.

The checking functions return the problems as strings; the tests at the end run them on made-up
text to show that a broken link or an unknown option is caught.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shlex
from typing import Iterator, List, Optional, Sequence, Tuple

import pytest

from imagepipe.pipeline import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
README_MAX_LINES = 250

FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)  # http:, mailto:, //host
NOT_SHELL = {"python", "py", "yaml", "yml", "json", "text", "txt"}
SHELL_ENDS = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1"}
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*$")  # NAME, PATH: any subcommand


def doc_files() -> List[str]:
    """README.md and every Markdown page under docs/."""
    return [README] + sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True))


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _split_fences(text: str) -> Iterator[Tuple[int, str, Optional[str]]]:
    """(line number, line, None outside a fenced block or the block's language inside it)."""
    language = None
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if fence is None and match:
            fence, language = match.group(1), match.group(2).lower()
            continue
        if fence is not None and line.strip().startswith(fence):
            fence, language = None, None
            continue
        yield number, line, (None if fence is None else language)


# ---------------------------------------------------------------- links


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set:
    """Every heading anchor of a Markdown text (duplicates get -1, -2, … as on GitHub)."""
    found, seen = set(), {}
    for _, line, language in _split_fences(text):
        match = HEADING.match(line) if language is None else None
        if match:
            slug = github_slug(match.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(text: str) -> Iterator[Tuple[int, str]]:
    """(line number, target) of every link outside code blocks and code spans."""
    for number, line, language in _split_fences(text):
        if language is not None:
            continue
        prose = INLINE_CODE.sub("", line)
        for match in LINK.finditer(prose):
            yield number, match.group(1)
        match = REFERENCE.match(prose)
        if match:
            yield number, match.group(1)


def link_problems(text: str, base_dir: str, where: str = "") -> List[str]:
    """The relative links of ``text`` (a page in ``base_dir``) that do not resolve."""
    problems = []
    for number, target in links(text):
        if EXTERNAL.match(target):
            continue
        path, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(base_dir, path)) if path else None
        if resolved is not None and not os.path.exists(resolved):
            problems.append(f"{where}:{number}: broken link {target!r} ({resolved} does not exist)")
            continue
        if anchor and (resolved is None or resolved.endswith(".md")):
            page = text if resolved is None else _read(resolved)
            if anchor not in anchors(page):
                problems.append(f"{where}:{number}: broken link {target!r} (no heading "
                                f"'#{anchor}' in {os.path.basename(resolved or where)})")
    return problems


# ---------------------------------------------------------------- commands


def _tokens(line: str) -> List[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:  # an unbalanced quote: good enough for finding options
        return line.split("#", 1)[0].split()


def _is_imagepipe(token: str) -> bool:
    return token == "imagepipe" or token.endswith("/bin/imagepipe")


def _without_comment(line: str) -> str:
    return re.sub(r"(^|\s)#.*$", "", line).rstrip()


def commands(text: str) -> Iterator[Tuple[int, List[str], bool]]:
    """(line number, tokens after ``imagepipe``, whether it must be complete) of every command.

    In code blocks a line ending in a backslash, or an indented line that starts with ``[`` or
    ``-`` (a synopsis wrapped over lines), continues the line before it. Inline code spans that
    start with ``imagepipe`` are commands too, but may stop before naming a leaf subcommand.
    """
    block: List[Tuple[int, str]] = []  # a code block's logical lines: (first line number, text)
    last = 0

    def flush() -> Iterator[Tuple[int, List[str], bool]]:
        for number, joined in block:
            tokens = _tokens(joined)
            for i, token in enumerate(tokens):
                if _is_imagepipe(token):
                    yield number, tokens[i + 1:], True
        block.clear()

    for number, line, language in _split_fences(text):
        if language is None or language in NOT_SHELL or number != last + 1:
            yield from flush()  # outside a shell block, or a new block began
        last = number
        if language is None:
            for match in INLINE_CODE.finditer(line):
                tokens = _tokens(match.group(2))
                if tokens and _is_imagepipe(tokens[0]):
                    yield number, tokens[1:], False
        if language is None or language in NOT_SHELL:
            continue
        code = _without_comment(line)
        stripped = code.strip()
        if block and (block[-1][1].endswith("\\") or (
                code[:1].isspace() and stripped[:1] in ("[", "-"))):
            first, joined = block.pop()
            block.append((first, joined.rstrip("\\").rstrip() + " " + stripped))
        else:
            block.append((number, stripped))
    yield from flush()


def _subparsers(parser: argparse.ArgumentParser) -> Optional[argparse._SubParsersAction]:  # pylint: disable=protected-access
    for action in parser._actions:  # pylint: disable=protected-access
        if isinstance(action, argparse._SubParsersAction):  # pylint: disable=protected-access
            return action
    return None


def _clean(token: str) -> str:
    token = token.lstrip("[(")
    token = re.sub(r"[\])]+[,.;]*$", "", token)
    return token.rstrip(",;")


def command_problems(tokens: Sequence[str], parser: argparse.ArgumentParser,
                     complete: bool = True, name: str = "imagepipe") -> List[str]:
    """What is wrong with ``imagepipe TOKENS`` against the parser: unknown subcommands or options."""
    tokens = list(tokens)
    for i, token in enumerate(tokens):
        if token in SHELL_ENDS or token.startswith((">", "2>")):
            tokens = tokens[:i]
            break
    subparsers = _subparsers(parser)
    if subparsers is not None:
        rest = [t for t in tokens if _clean(t) not in ("", "...", "…")]
        while rest and _clean(rest[0]) in ("-h", "--help"):
            rest = rest[1:]
        if not rest:
            return [f"`{name}` needs a subcommand: {', '.join(subparsers.choices)}"] \
                if complete else []
        word = _clean(rest[0])
        if PLACEHOLDER.match(word):
            return []
        problems = []
        for choice in word.split("|"):
            if choice not in subparsers.choices:
                problems.append(f"`{name}` has no subcommand {choice!r} "
                                f"(it has: {', '.join(subparsers.choices)})")
            else:
                problems += command_problems(rest[1:], subparsers.choices[choice], complete,
                                             f"{name} {choice}")
        return problems
    known = parser._option_string_actions  # pylint: disable=protected-access
    problems, skip = [], False
    for token in tokens:
        if skip:
            skip = False
            continue
        word = _clean(token)
        if word == "--":
            break
        if not word.startswith("-") or word in ("-", "...", "…") or re.match(r"^-\d", word):
            continue
        for flag in word.split("|"):
            flag, has_value, _ = flag.partition("=")
            action = known.get(flag)
            if action is None:
                problems.append(f"`{name}` has no option {flag!r}")
            elif action.nargs != 0 and not has_value and not token.endswith("]"):
                skip = True  # the next token is the option's value
    return problems


def command_problems_in(text: str, parser: argparse.ArgumentParser, where: str = "") -> List[str]:
    return [f"{where}:{number}: {problem}"
            for number, tokens, complete in commands(text)
            for problem in command_problems(tokens, parser, complete)]


# ---------------------------------------------------------------- the repository's docs


@pytest.fixture(scope="module")
def parser():
    return cli.build_parser()


def test_every_relative_link_resolves():
    problems = []
    for path in doc_files():
        problems += link_problems(_read(path), os.path.dirname(path), os.path.relpath(path, ROOT))
    assert not problems, "\n".join(problems)


def test_every_imagepipe_command_names_real_subcommands_and_options(parser):
    problems, checked = [], 0
    for path in doc_files():
        text = _read(path)
        checked += sum(1 for _ in commands(text))
        problems += command_problems_in(text, parser, os.path.relpath(path, ROOT))
    assert not problems, "\n".join(problems)
    assert checked > 20  # the check sees the commands


def test_the_readme_stays_short_and_points_at_the_docs():
    text = _read(README)
    assert len(text.splitlines()) <= README_MAX_LINES, (
        f"README.md has {len(text.splitlines())} lines, at most {README_MAX_LINES}: move "
        f"reference to docs/ and measurements to docs/benchmarks.md")
    assert "docs/benchmarks.md" in text
    assert "./scripts/run-fashion-mnist.sh" in text and "./scripts/test.sh" in text


# ---------------------------------------------------------------- the check itself


def test_a_broken_link_fails_the_check(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\n## A section: here\n", encoding="utf-8")
    text = ("# Title\n\n"
            "[good](docs/page.md), [anchor](docs/page.md#a-section-here), [self](#title), "
            "[web](https://example.com/x.md), [folder](docs/)\n"
            "[broken](docs/missing.md) and ![image](img/none.png)\n"
            "[bad anchor](docs/page.md#no-such-heading)\n"
            "`[in code](nowhere.md)`\n\n"
            "```\n[in a block](nowhere.md)\n```\n\n"
            "[ref]: docs/gone.md\n")
    problems = link_problems(text, str(tmp_path), "made-up.md")
    assert len(problems) == 4, problems
    assert "made-up.md:4: broken link 'docs/missing.md'" in problems[0]
    assert "img/none.png" in problems[1]
    assert "made-up.md:5:" in problems[2] and "no heading '#no-such-heading'" in problems[2]
    assert "made-up.md:12: broken link 'docs/gone.md'" in problems[3]


def test_an_unknown_option_or_subcommand_fails_the_check(parser):
    text = "\n".join([
        "Run `imagepipe run fashion-mnist --epoch 3` or `imagepipe run` (fine: inline, partial).",
        "",
        "```bash",
        "imagepipe run fashion-mnist --epochs 3 --model arch5   # fine",
        "imagepipe run fashion-mnist --no-such-option",
        ".venv/bin/imagepipe serve --model-dir DIR --colour blue",
        "imagepipe train fashion-mnist",
        "imagepipe compile --target vertex --image I",
        "imagepipe compile",
        "imagepipe run folder PATH [--class-map FILE] [--resize pad|crop] \\",
        "    --beam-arg=--runner=DataflowRunner --weights imagenet",
        "imagepipe experiment architectures|data-size [--epochs 10]",
        "imagepipe run fashion-mnist [--source idx|tfds] [--balance oversample|class_weight]",
        "                            [--photo-augmentaton F]",
        "echo imagepipe-output/serving | imagepipe predict --json shoe.png  # a pipe",
        "```",
        "",
        "```python",
        "imagepipe --not-checked-in-python",
        "```",
    ])
    problems = command_problems_in(text, parser, "made-up.md")
    assert problems == [
        "made-up.md:1: `imagepipe run fashion-mnist` has no option '--epoch'",
        "made-up.md:5: `imagepipe run fashion-mnist` has no option '--no-such-option'",
        "made-up.md:6: `imagepipe serve` has no option '--colour'",
        "made-up.md:7: `imagepipe` has no subcommand 'train' (it has: "
        + ", ".join(_subparsers(parser).choices) + ")",
        "made-up.md:8: `imagepipe compile` has no subcommand '--target' (it has: "
        "fashion-mnist, folder)",
        "made-up.md:9: `imagepipe compile` needs a subcommand: fashion-mnist, folder",
        "made-up.md:13: `imagepipe run fashion-mnist` has no option '--photo-augmentaton'",
    ], problems


def test_commands_are_found_in_code_blocks_and_spans():
    text = ("`imagepipe models`\n\n```\n$ imagepipe evaluate \\\n  --photos p --model-dir m\n"
            "cd /imagepipe && ls\n```\n")
    assert list(commands(text)) == [
        (1, ["models"], False),
        (4, ["evaluate", "--photos", "p", "--model-dir", "m"], True),
    ]


def test_github_slugs():
    assert github_slug("Decoding, the same at training and serving time") == \
        "decoding-the-same-at-training-and-serving-time"
    assert github_slug("### `imagepipe run fashion-mnist`".lstrip("# ")) == \
        "imagepipe-run-fashion-mnist"
    assert github_slug("2026-12-02: photo augmentation 0 against 0.25") == \
        "2026-12-02-photo-augmentation-0-against-025"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n") == {"a", "a-1"}
