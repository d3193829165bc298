"""Built-in defaults: word targets per length and the stock prompt templates."""

from __future__ import annotations

from contentgen.models import ContentType, Length

#: Target words per content type and length (used when the strategy sets no word range).
WORD_TARGETS: dict[ContentType, dict[Length, int]] = {
    ContentType.BLOG: {Length.SHORT: 450, Length.MEDIUM: 800, Length.LONG: 1500},
    ContentType.SOCIAL: {Length.SHORT: 40, Length.MEDIUM: 80, Length.LONG: 150},
    ContentType.LOCAL: {Length.SHORT: 350, Length.MEDIUM: 600, Length.LONG: 1000},
}

#: Sections a piece gets when the strategy names none.
DEFAULT_SECTIONS: dict[ContentType, list[str]] = {
    ContentType.BLOG: ["Introduction", "Key Benefits", "How to Get Started", "Conclusion"],
    ContentType.SOCIAL: [],
    ContentType.LOCAL: ["Overview", "Why Choose a Local Expert", "Service Area", "Contact Us"],
}

_COMMON_RULES = """\
{% if tone.formality or tone.voice or tone.engagement %}
Tone: {{ [tone.formality, tone.voice, tone.engagement] | select | join(", ") }}.
{% endif %}
{% if keywords %}Use these keywords naturally: {{ keywords | join(", ") }}.
{% endif %}
{% if primary_keywords %}Primary SEO keywords: {{ primary_keywords | join(", ") }}\
{% if keyword_density %} (aim for about {{ keyword_density }}% density){% endif %}.
{% endif %}
{% if citation_required %}Cite credible sources for factual claims.
{% endif %}
{% for rule in seo_rules %}- SEO rule: {{ rule }}
{% endfor %}
{% for key, value in preferences.items() %}- Preference ({{ key }}): {{ value }}
{% endfor %}"""

BUILTIN_TEMPLATES: dict[ContentType, str] = {
    ContentType.BLOG: """\
Write a blog post in Markdown about: {{ topic }}.
Start with a single '# ' title line, then use '## ' headings for these sections:
{% for s in required_sections %}- {{ s }}
{% endfor %}
Length: {{ min_words }} to {{ max_words }} words (about {{ target_words }}).
""" + _COMMON_RULES + """
{% if meta_description_length %}End with a line 'Meta description:' of at most \
{{ meta_description_length }} characters.
{% endif %}""",
    ContentType.SOCIAL: """\
Write a social media post about: {{ topic }}.
Length: {{ min_words }} to {{ max_words }} words. One hook line, a short body, a call to action
and up to three hashtags.
""" + _COMMON_RULES,
    ContentType.LOCAL: """\
Write a local SEO landing page in Markdown about: {{ topic }}.
Start with a single '# ' title line naming the service and place, then '## ' sections:
{% for s in required_sections %}- {{ s }}
{% endfor %}
Length: {{ min_words }} to {{ max_words }} words (about {{ target_words }}).
""" + _COMMON_RULES,
}

BUILTIN_TEMPLATE_VERSION = "builtin-1"
