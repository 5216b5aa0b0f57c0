"""The Wagtail admin shows the avatar a person uploaded to Encore.

Wagtail's own avatar (a UserProfile picture, else Gravatar) would be a second picture of the
same person, and Gravatar a call to a third party: settings turn Gravatar off, this hook answers
with the Encore avatar, and the account page's picture panel points to the Encore profile
(site/templates/wagtailadmin/account/settings_panels/avatar.html). A person without an avatar
gets Wagtail's default image.
"""

from wagtail import hooks

from accounts.selectors import avatar_path


@hooks.register("get_avatar_url")
def encore_avatar(user, size):
    return avatar_path(user)
