from typing import Any
from cyberqms.conftest import PERSONAS

def test_dump(make_user: Any, login: Any) -> None:
    from cyberqms.web.tests.browser.test_interface_browser import make_data, ROLES
    people = {name: make_user(name, PERSONAS[name]) for name in ROLES}
    make_data(people)
    from cyberqms.quality.changes.models import Change
    for c in Change.objects.all():
        print(c.pk, c.state)
    client = login(people["qa_manager"])
    html = client.get("/changes/3/").content.decode()
    open("/tmp/F-change3.html", "w").write(html)
    html = client.get("/monitoring/alerts/1/").content.decode()
    open("/tmp/F-alert1.html", "w").write(html)
