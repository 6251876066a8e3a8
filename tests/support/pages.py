"""What a person's page asks before it answers: the quota page's CAPTCHA, answered."""

from __future__ import annotations

import re

from captcha.models import CaptchaStore
from django.test import Client


def captcha_answer(client: Client) -> dict[str, str]:
    """The page's CAPTCHA fields, answered: the key from a GET of /quota/, its response."""
    html = client.get("/quota/").content.decode()
    key = re.search(r'name="captcha_0" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}
