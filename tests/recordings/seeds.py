"""The seed answers the tests need, vendored: the two bothub / OpenIntegrations documents (seeds 000 and 001,
``shared/seeds/000_0bbb8c2e42243b03.txt`` and ``001_619dde2b4eea99e3.txt``) print one dall-e-3 answer each.

Kept here, value for value, so that the recordings builder (``build.py``) and the client's parsing tests
(``tests/client/test_facade_parsing.py``) do not depend on ``shared/`` being beside the work tree;
``tests/check/test_recordings.py`` checks them against the seed documents when those are present.
No imports: this is data.
"""

SEED_000_URL = (
    "https://oaidalleapiprodscus.blob.core.windows.net/private/org-Dy8ARyqBtu507OGoMBxfUU0S/user-n4L5wc2dF1fH9APAG2dE3Rw9/"
    "img-oEeMH1QJWSvtVlmG3yc1KOqx.png?st=2025-06-12T18%3A34%3A25Z&se=2025-06-12T20%3A34%3A25Z&sp=r&sv=2024-08-04&sr=b"
    "&rscd=inline&rsct=image/png&skoid=475fd488-6c59-44a5-9aa9-31c4db451bea&sktid=a48cca56-e6da-484e-a814-9c849652bcb3"
    "&skt=2025-06-12T11%3A41%3A33Z&ske=2025-06-13T11%3A41%3A33Z&sks=b&skv=2024-08-04&sig=%2BjegkXiCFSi3l80vNiH1IOij4nQ%2BD%2Bd%2BNitOmxISJ1c%3D"
)
SEED_001_URL = (
    "https://oaidalleapiprodscus.blob.core.windows.net/private/org-Dy8ARyqBtu507OGoMBxfUU0S/user-n4L5wc2dF1fH9APAG2dE3Rw9/"
    "img-StR6prDRbPDFcwREXKuTv5wU.png?st=2025-06-16T17%3A34%3A06Z&se=2025-06-16T19%3A34%3A06Z&sp=r&sv=2024-08-04&sr=b"
    "&rscd=inline&rsct=image/png&skoid=475fd488-6c59-44a5-9aa9-31c4db451bea&sktid=a48cca56-e6da-484e-a814-9c849652bcb3"
    "&skt=2025-06-16T07%3A23%3A15Z&ske=2025-06-17T07%3A23%3A15Z&sks=b&skv=2024-08-04&sig=61%2B3ssgypoSq6e9cEYAq1EI8WuxfypYrI1u3EvkzeBc%3D"
)
SEED_000_REVISED = (
    "Imagine a sunny meadow with lush green grass. In the heart of this vibrant landscape, stands a yellow alpaca with its "
    "woolly fur, shining brightly under the sunlight. Its features are comically endearing with a long neck, a small "
    "rounded head, and large, expressive eyes. It is peacefully grazing, unperturbed by the world around it, epitomizing "
    "the tranquility of the idyllic meadow. The gentle breeze flutters its fur, adding an element of charisma to this "
    "adorable creature. The picture is a beautiful blend of vibrant colors, and a sense of calmness."
)
SEED_001_REVISED = (
    "A charming yellow-colored alpaca standing freely in a pasture. The alpaca is adorned with a lush, thick yellow coat "
    "that appears to be sun-kissed. It has impressive, moderately curved ears, and expressive eyes that reveal a gentle "
    "and docile nature. The scene is idyllic, representing rural tranquility, with the alpaca being the center of attention."
)


#: the answer each seed document prints (``{"created": ...}``), by the seed's file name
ANSWERS = {
    "000_0bbb8c2e42243b03.txt": {
        "created": 1749756865,
        "data": [{"revised_prompt": SEED_000_REVISED, "url": SEED_000_URL}],
    },
    "001_619dde2b4eea99e3.txt": {
        "created": 1750098846,
        "data": [{"revised_prompt": SEED_001_REVISED, "url": SEED_001_URL}],
    },
}
