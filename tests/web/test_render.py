"""Markdown -> sanitised HTML (contentgen.web.render): model output is untrusted."""

from __future__ import annotations

import re

import pytest

from contentgen.web.render import markdown_to_html, sanitise_html

ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)></svg>",
    "<iframe src='https://evil.example'></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<object data='x.swf'></object><embed src='x.swf'>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href=' JaVaScRiPt:alert(1)'>x</a>",
    "<a href='&#106;avascript:alert(1)'>x</a>",
    "<p onclick='alert(1)' style='background:url(javascript:alert(1))'>x</p>",
    "<form action='https://evil.example'><input name=q><button>go</button></form>",
    "<meta http-equiv='refresh' content='0;url=javascript:alert(1)'>",
    "<base href='https://evil.example/'>",
    "<link rel=stylesheet href='https://evil.example/x.css'>",
    "<style>body{background:red}</style>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![x](https://tracker.example/pixel.png)",
    "![x](javascript:alert(1))",
]

ACTIVE = re.compile(
    r"<\s*(script|iframe|img|svg|object|embed|form|input|button|meta|base|link|style)\b"
    r"|\son\w+\s*=|javascript:|vbscript:|data:|\sstyle\s*=|\ssrc\s*=",
    re.IGNORECASE,
)


def tags_and_attributes(html: str) -> str:
    """Only the markup of ``html`` (text between tags removed): what a browser would run."""
    return " ".join(re.findall(r"<[^>]*>", html))


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_leaves_nothing_active(attack: str) -> None:
    html = markdown_to_html(f"# Title\n\nBefore.\n\n{attack}\n\nAfter.")
    assert not ACTIVE.search(tags_and_attributes(html)), html
    assert "<h1>Title</h1>" in html and "After." in html


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_sanitiser_alone_also_leaves_nothing_active(attack: str) -> None:
    """The second layer holds even for HTML that did not come from our Markdown renderer."""
    html = sanitise_html(f"<p>Before</p>{attack}<p>After</p>")
    assert not ACTIVE.search(tags_and_attributes(html)), html
    assert "After" in html


def test_raw_html_in_markdown_is_shown_as_text() -> None:
    html = markdown_to_html("Say <script>alert(1)</script> please")
    assert html == "<p>Say &lt;script&gt;alert(1)&lt;/script&gt; please</p>\n"


def test_ordinary_markdown_keeps_its_structure() -> None:
    text = """# Solar panels

Intro with **bold**, *italic*, `code` and ~~old~~ text and a [link](https://example.com/a?b=1).

## Steps

1. Plan
2. Install

- one
- two

> A quote

| Panel | Watts |
|:------|------:|
| A     | 400   |

```
code block <b>not bold</b>
```

[mail](mailto:hello@example.com) [relative](/docs/page)
"""
    html = markdown_to_html(text)
    for fragment in (
        "<h1>Solar panels</h1>", "<h2>Steps</h2>", "<strong>bold</strong>", "<em>italic</em>",
        "<code>code</code>", "<s>old</s>", "<ol>", "<ul>", "<blockquote>", "<table>",
        "<th>Panel</th>", "<td>400</td>", "&lt;b&gt;not bold&lt;/b&gt;",
        '<a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow">link</a>',
        '<a href="mailto:hello@example.com" rel="noopener noreferrer nofollow">mail</a>',
        '<a href="/docs/page" rel="noopener noreferrer nofollow">relative</a>',
    ):  # fmt: skip
        assert fragment in html, fragment
