from django.contrib.auth import get_user_model
from django.test import Client, TestCase

from tests.factories import PASSWORD, make_thread, make_user


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
