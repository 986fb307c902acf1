from django.contrib.auth import get_user_model
from django.test import Client, TestCase, override_settings

from tests.factories import PASSWORD, make_thread, make_user
from threads.models import Person


class SignupTests(TestCase):
    def test_signup_creates_the_member_and_logs_them_in(self):
        response = self.client.post(
            "/accounts/signup/", {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD}
        )
        self.assertRedirects(response, "/")
        self.assertEqual(int(self.client.session["_auth_user_id"]), get_user_model().objects.get(username="newbie").pk)
        self.assertContains(self.client.get("/"), '<a class="username" href="/u/newbie">newbie</a>', html=True)

    def test_signup_returns_to_next_within_the_site_only(self):
        thread = make_thread()
        data = {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD, "next": thread.get_absolute_url()}
        self.assertRedirects(self.client.post("/accounts/signup/", data), thread.get_absolute_url())
        self.client.logout()
        data.update(username="other", next="https://evil.example/")
        self.assertRedirects(self.client.post("/accounts/signup/", data), "/")

    def test_signup_form_shows_errors(self):
        response = self.client.post("/accounts/signup/", {"username": "x", "password1": "a", "password2": "b"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "password fields didn’t match")
        self.assertFalse(get_user_model().objects.filter(username="x").exists())

    def test_signup_with_a_taken_username_shows_only_the_form_error(self):
        make_user("erin")
        for name in ("erin", "ERIN"):
            response = self.client.post(
                "/accounts/signup/", {"username": name, "password1": PASSWORD, "password2": PASSWORD}
            )
            self.assertEqual(response.status_code, 200)
            self.assertTemplateUsed(response, "registration/signup.html")
            self.assertEqual(
                response.context["form"].errors, {"username": ["A user with that username already exists."]}
            )
            self.assertNotContains(response, PASSWORD)
        self.assertEqual(get_user_model().objects.count(), 1)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_signup_page_has_the_three_fields(self):
        response = self.client.get("/accounts/signup/")
        for name in ("username", "password1", "password2"):
            self.assertContains(response, f'name="{name}"')

    def test_signup_needs_csrf(self):
        client = Client(enforce_csrf_checks=True)
        response = client.post("/accounts/signup/", {"username": "n", "password1": PASSWORD, "password2": PASSWORD})
        self.assertEqual(response.status_code, 403)


class LoginLogoutPasswordTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.member = make_user("erin")

    def test_login_page_and_login_return_to_next(self):
        self.assertContains(self.client.get("/accounts/login/?next=/u/erin"), 'name="next" value="/u/erin"')
        response = self.client.post("/accounts/login/", {"username": "erin", "password": PASSWORD, "next": "/u/erin"})
        self.assertRedirects(response, "/u/erin")

    def test_wrong_password_shows_the_form_again(self):
        response = self.client.post("/accounts/login/", {"username": "erin", "password": "nope"})
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_logout_is_a_post(self):
        self.client.force_login(self.member)
        self.assertEqual(self.client.get("/accounts/logout/").status_code, 405)
        self.assertRedirects(self.client.post("/accounts/logout/"), "/")
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_password_change(self):
        self.client.force_login(self.member)
        self.assertContains(self.client.get("/accounts/password_change/"), 'name="old_password"')
        new = "another-long-password-77"
        response = self.client.post(
            "/accounts/password_change/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
        )
        self.assertRedirects(response, "/accounts/password_change/done/")
        self.member.refresh_from_db()
        self.assertTrue(self.member.check_password(new))

    def test_password_change_needs_login(self):
        response = self.client.get("/accounts/password_change/")
        self.assertRedirects(response, "/accounts/login/?next=/accounts/password_change/")


@override_settings(RATELIMIT_ENABLED=False)
class UsernameRulesTests(TestCase):
    """A new name may not pass for one already here (Unicode's confusables)."""

    @classmethod
    def setUpTestData(cls):
        for name in ("admin", "ace", "mike", "bill", "adamin"):
            make_user(name)
        Person.objects.create(name="hafenmeister", instance="")
        Person.objects.create(name="visitor", instance="lemmy.world")

    def signup(self, username):
        return self.client.post(
            "/accounts/signup/", {"username": username, "password1": PASSWORD, "password2": PASSWORD}
        )

    def assert_refused(self, username, message):
        response = self.signup(username)
        self.assertEqual(response.status_code, 200, username)
        self.assertEqual(response.context["form"].errors, {"username": [message]}, username)
        self.assertFalse(get_user_model().objects.filter(username=username).exists())

    def test_mixed_scripts_that_pass_for_another_script_are_refused(self):
        mixed = "Use letters of one script: this name mixes scripts that can pass for each other."
        for name in ("\u0430dmin", "ad\u0430min", "n\u0435wcomer", "\u03a9mega"):  # Cyrillic а, е; Greek Ω
            self.assert_refused(name, mixed)

    def test_names_that_look_like_a_members_are_refused(self):
        looks = "That name looks too much like one already here; please choose another."
        taken = "A user with that username already exists."
        self.assert_refused("ADMIN", taken)
        self.assert_refused("\uff41\uff44\uff4d\uff49\uff4e", taken)  # fullwidth: NFKC makes it "admin"
        for name in ("\u0430\u0441\u0435", "rnike", "biII"):  # all-Cyrillic "асе"; rn for m; capital I for l
            self.assert_refused(name, looks)

    def test_names_of_local_imported_authors_are_refused_in_any_guise(self):
        self.assert_refused("Hafenmeister", "That name belongs to an imported author; please choose another.")
        self.assert_refused(
            "hafenme\u0456ster", "Use letters of one script: this name mixes scripts that can pass for each other."
        )
        self.assert_refused("hafenrneister", "That name looks too much like one already here; please choose another.")

    def test_distinct_names_in_any_script_are_accepted(self):
        for name in ("visitor", "jürgen", "straße", "Кирилл", "山田太郎", "やまだタロウ", "김철수", "adm1n_2"):
            with self.subTest(name=name):
                self.assertEqual(self.signup(name).status_code, 302, name)
                self.client.post("/accounts/logout/")
        self.assertTrue(Person.objects.filter(user__username="visitor").exists())

    def test_help_text_states_the_rules(self):
        response = self.client.get("/accounts/signup/")
        self.assertContains(response, "letters, digits and . + - _ (no @), in one script")
        self.assertNotContains(response, "@/./+/-/_")
