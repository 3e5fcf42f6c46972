import pytest

from solution import Response, Router


@pytest.fixture
def router():
    r = Router()
    r.add("GET", "/users/{user_id:int}", lambda user_id: {"id": user_id})
    r.add("GET", "/users/me", lambda: {"id": "current"})
    r.add("DELETE", "/users/{user_id:int}", lambda user_id: Response(204))
    r.add("get", "/files/{name}", lambda name: name.upper())
    return r


def test_typed_parameter_is_converted(router):
    assert router.dispatch("GET", "/users/42") == Response(200, {"id": 42})


def test_literal_segment_beats_parameter(router):
    assert router.dispatch("GET", "/users/me").body == {"id": "current"}


def test_handler_can_return_its_own_response(router):
    assert router.dispatch("delete", "/users/7").status == 204


def test_unknown_path_and_type_mismatch_give_404(router):
    assert router.dispatch("GET", "/teams/1").status == 404
    assert router.dispatch("GET", "/users/abc").status == 404


def test_wrong_method_gives_405_with_allow_list(router):
    response = router.dispatch("PUT", "/users/3")
    assert response.status == 405
    assert response.allow == ("DELETE", "GET")


def test_trailing_slash_is_ignored(router):
    assert router.dispatch("GET", "/files/report.txt/").body == "REPORT.TXT"


def test_duplicate_registration_is_rejected(router):
    with pytest.raises(ValueError):
        router.add("GET", "/users/{other:int}", lambda other: other)


def test_invalid_registrations_are_rejected():
    r = Router()
    with pytest.raises(ValueError):
        r.add("FETCH", "/x", lambda: None)
    with pytest.raises(ValueError):
        r.add("GET", "no-leading-slash", lambda: None)
    with pytest.raises(TypeError):
        r.add("GET", "/x", "not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        r.add("GET", "/a/{id}/{id}", lambda id: id)


def test_dispatch_validates_its_arguments(router):
    with pytest.raises(ValueError):
        router.dispatch("GET", "users/1")
    with pytest.raises(TypeError):
        router.dispatch("GET", None)  # type: ignore[arg-type]
