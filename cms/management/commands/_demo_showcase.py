"""Demo text of the demo musicians' pages, for ``seed_demo``. Written straight to the published
page (the seed stands in for a moderator who approved it); real musicians' edits go through
moderation (cms.services.artist_page_submit)."""

from cms.models import ArtistPage

PAGES = {
    "musician": {
        "headline": "Acoustic songs with your story in every line",
        "bio": (
            "I have written songs for friends' weddings since I could hold a guitar. Now I "
            "write them for strangers who stop being strangers by the second verse.\n\n"
            "Tell me how you met, what they laugh at, the word only the two of you use: "
            "it all goes in."
        ),
        "specializations": "First-dance ballads\nBirthday songs with names in the chorus\n"
        "Bollywood unplugged covers, rewritten for you",
    },
    "musician2": {
        "headline": "Beats, rhymes and anthems built to be played loud",
        "bio": (
            "Producer and rapper. I turn inside jokes into bars and birthdays into hype "
            "tracks, and I mix everything myself."
        ),
        "specializations": "Personal rap tributes\nGraduation anthems\nFunk and electronic edits",
    },
}


def showcase_seed(musicians: dict, *, log) -> int:
    """Write each demo musician's page text once; a page whose text was since written is kept."""
    made = 0
    for local, musician in musicians.items():
        page = ArtistPage.objects.filter(musician=musician).first()
        text = PAGES.get(local)
        if page is None or text is None or page.bio:
            continue
        for name, value in text.items():
            setattr(page, name, value)
        page.save_revision(log_action=True).publish()
        made += 1
        log(f"  Page of {musician.display_name}: {page.url}")
    return made
