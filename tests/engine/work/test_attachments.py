"""Documents on a case through the engine: added, listed and read back by those who see the case,
refused over the limit or empty, typed from their bytes, named cleanly; a task form's file field
stores its files with the completion, or nothing when the form is refused."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidData, NotFound, PermissionDenied, TooLarge
from engine.store.models import Attachment, AuditEvent, ProcessInstance
from engine.work import attachments, instances, pages, tasks
from engine.work.uploads import Upload, clean_name, detect_type
from tests.engine.conftest import diagram, publish

PD_HTI = "project-developer@hti.demo"
COM_HTI = "chief-of-mission@hti.demo"
EFP = "emergency-focal-point@ro-americas.demo"
PD_PAN = "project-developer@pan.demo"
DRAFT = {"title": "Hurricane Marisol bridge", "amount": 50000, "justification": "shelter kits"}
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17


def start(world):
    return instances.start_instance(world.uow(), world.user(PD_HTI), "funding_review", "HTI", {})


def attach(world, instance_id, upload, who=PD_HTI, max_bytes=attachments.DEFAULT_MAX_BYTES):
    return attachments.add_attachment(world.uow(), world.user(who), instance_id, upload, max_bytes=max_bytes)


def stored_count(world) -> int:
    with world.db.unit_of_work(world.clock, write=False) as tx:
        return tx.session.scalar(select(func.count()).select_from(Attachment))


def test_a_document_added_is_listed_read_back_and_on_the_timeline(world, funding_review):
    instance = start(world)
    added = attach(world, instance.id, Upload("budget.pdf", PDF))

    assert (added.name, added.content_type, added.size) == ("budget.pdf", "application/pdf", len(PDF))
    assert added.sha256 == hashlib.sha256(PDF).hexdigest()
    assert added.uploaded_by_id == world.user(PD_HTI) and added.uploaded_at == world.clock.now()
    [listed] = attachments.attachments_of(world.uow(), world.user(EFP), instance.id)  # the region sees it
    assert listed == added
    found = attachments.read_attachment(world.uow(), world.user(COM_HTI), added.id)
    assert found.content == PDF and found.attachment.name == "budget.pdf"
    events = instances.get_instance(world.uow(), world.user(PD_HTI), instance.id).events
    assert [(e.kind, e.actor_id, e.data) for e in events if e.kind == "attached"] == [
        ("attached", world.user(PD_HTI), {"attachment_id": added.id, "name": "budget.pdf", "size": len(PDF)})
    ]


def test_another_office_gets_not_found_for_the_list_the_file_and_an_upload(world, funding_review):
    instance = start(world)
    added = attach(world, instance.id, Upload("budget.pdf", PDF))
    with pytest.raises(NotFound):
        attachments.attachments_of(world.uow(), world.user(PD_PAN), instance.id)
    with pytest.raises(NotFound):
        attachments.read_attachment(world.uow(), world.user(PD_PAN), added.id)
    with pytest.raises(NotFound):
        attach(world, instance.id, Upload("x.pdf", PDF), who=PD_PAN)
    with pytest.raises(NotFound):
        attachments.read_attachment(world.uow(), world.user(PD_HTI), added.id + 1000)
    assert stored_count(world) == 1


def test_a_file_over_the_limit_is_refused_whole_and_one_at_the_limit_is_kept(world, funding_review):
    instance = start(world)
    with pytest.raises(TooLarge) as refused:
        attach(world, instance.id, Upload("big.pdf", PDF + b"x" * 100), max_bytes=len(PDF) + 99)
    assert refused.value.limit == len(PDF) + 99 and "file" in refused.value.fields
    assert stored_count(world) == 0
    assert [
        e for e in instances.get_instance(world.uow(), world.user(PD_HTI), instance.id).events if e.kind == "attached"
    ] == []
    kept = attach(world, instance.id, Upload("big.pdf", PDF + b"x" * 99), max_bytes=len(PDF) + 99)
    assert kept.size == len(PDF) + 99


def test_an_empty_file_is_refused(world, funding_review):
    instance = start(world)
    with pytest.raises(InvalidData):
        attach(world, instance.id, Upload("empty.pdf", b""))
    assert stored_count(world) == 0


def test_a_cancelled_case_takes_no_more_documents(world, funding_review):
    instance = start(world)
    with world.uow() as tx:
        tx.session.get(ProcessInstance, instance.id).status = "cancelled"
        tx.commit()
    with pytest.raises(PermissionDenied):
        attach(world, instance.id, Upload("late.pdf", PDF))
    assert stored_count(world) == 0


def test_the_type_comes_from_the_bytes_not_the_name(world, funding_review):
    instance = start(world)
    disguised = attach(world, instance.id, Upload("budget.pdf", PNG))
    assert disguised.content_type == "image/png"
    assert detect_type(PDF, "letter.docx") == "application/pdf"
    assert detect_type("Línea 1, 200 USD\n".encode(), "lines.csv") == "text/plain"
    assert detect_type(b"\x00\x01\x02\xfe\xff", "x.pdf") == "application/octet-stream"


def test_office_documents_are_told_apart_by_their_name_among_the_types_their_zip_allows():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    sheet = buffer.getvalue()
    assert detect_type(sheet, "budget.xlsx") == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert detect_type(sheet, "budget.docx").endswith("wordprocessingml.document")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\Presupuesto final.xlsx", "Presupuesto final.xlsx"),
        ("carta\x00firmada\r\n.pdf", "cartafirmada.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # a right-to-left override would show "exe.pdf"
        ('a<b>:"c"|?*.pdf', "a_b___c____.pdf"),
        ("  .hidden  ", "hidden"),
        ("...", "attachment.pdf"),
        ("", "attachment.pdf"),
        ("Informe  de   situación.docx", "Informe de situación.docx"),
    ],
)
def test_file_names_are_cleaned(raw, clean):
    assert clean_name(raw, "application/pdf") == clean


def test_a_long_file_name_is_bounded_and_keeps_its_extension():
    name = clean_name("a" * 500 + ".xlsx")
    assert len(name) == 120 and name.endswith(".xlsx")


def test_a_cleaned_name_is_what_is_stored(world, funding_review):
    instance = start(world)
    added = attach(world, instance.id, Upload("../x/\u202ecarta.pdf", PDF))
    assert added.name == "carta.pdf"


# --- a task form's file field ---------------------------------------------------------------------


@pytest.fixture
def review_with_files(world):
    """The funding review whose review form has a file field `signed_letter`."""
    [published] = publish(world, diagram("funding_review.bpmn", **{'value="test_review"': 'value="test_review_files"'}))
    return published


def review_task(world):
    instance = start(world)
    draft = next(t for t in tasks.inbox(world.uow(), world.user(PD_HTI)) if t.instance_id == instance.id)
    tasks.complete_task(world.uow(), world.user(PD_HTI), draft.id, DRAFT)
    review = next(t for t in tasks.inbox(world.uow(), world.user(EFP)) if t.instance_id == instance.id)
    return instance, review


def submit(world, task_id, values, who=EFP, **kwargs):
    return pages.submit_task(world.uow(), world.user(who), task_id, lambda schema: dict(values), **kwargs)


def test_files_of_a_completed_form_become_the_case_documents_and_the_field_holds_their_ids(world, review_with_files):
    instance, review = review_task(world)
    done = submit(world, review.id, {"decision": "recommend", "signed_letter": [Upload("letter.pdf", PDF)]})

    assert done.completed is not None
    [stored] = attachments.attachments_of(world.uow(), world.user(EFP), instance.id)
    assert (stored.name, stored.task_id, stored.field) == ("letter.pdf", review.id, "signed_letter")
    completed = [e for e in done.completed.events if e.kind == "completed_task"][-1]
    assert completed.data["signed_letter"] == [stored.id]
    assert done.completed.data["signed_letter"] == [stored.id]


def test_a_refused_form_stores_none_of_its_files(world, review_with_files):
    instance, review = review_task(world)
    done = submit(world, review.id, {"signed_letter": [Upload("letter.pdf", PDF)]})  # no decision

    assert done.completed is None and "decision" in done.errors
    assert done.values == {"signed_letter": []}
    assert done.refused.attachments == []
    assert stored_count(world) == 0
    with world.db.unit_of_work(world.clock, write=False) as tx:
        kinds = tx.session.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id == instance.id)).all()
    assert "attached" not in kinds


def test_a_form_file_over_the_limit_is_a_field_error_and_nothing_is_kept(world, review_with_files):
    _, review = review_task(world)
    values = {"decision": "recommend", "signed_letter": [Upload("letter.pdf", PDF)]}
    done = submit(world, review.id, values, max_bytes=10)
    assert done.completed is None and "signed_letter" in done.errors
    assert stored_count(world) == 0


def test_a_second_file_over_the_limit_undoes_the_first(world, review_with_files):
    _, review = review_task(world)
    files = [Upload("letter.pdf", PDF), Upload("annex.pdf", PDF + b"x")]
    done = submit(world, review.id, {"decision": "recommend", "signed_letter": files}, max_bytes=len(PDF))
    assert done.completed is None and "signed_letter" in done.errors
    assert done.refused.attachments == [] and stored_count(world) == 0


def test_a_draft_keeps_its_files_and_the_completion_keeps_the_ids_it_names(world, review_with_files):
    instance, review = review_task(world)
    kept = submit(world, review.id, {"signed_letter": [Upload("letter.pdf", PDF)]}, draft=True)
    [letter] = attachments.attachments_of(world.uow(), world.user(EFP), instance.id)
    assert kept.draft.draft == {"signed_letter": [letter.id]}

    done = submit(world, review.id, {"decision": "recommend", "signed_letter": [letter.id]})
    assert done.completed.data["signed_letter"] == [letter.id]


def test_a_file_field_refuses_ids_that_are_no_document_of_the_case(world, review_with_files):
    other, _ = review_task(world)
    elsewhere = attach(world, other.id, Upload("other.pdf", PDF))
    _, review = review_task(world)
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(
            world.uow(), world.user(EFP), review.id, {"decision": "recommend", "signed_letter": [elsewhere.id]}
        )
    assert refused.value.fields == {"signed_letter.0": "Not a document of this case."}


def test_the_api_path_links_an_uploaded_document_to_the_task_field(world, review_with_files):
    instance, review = review_task(world)
    letter = attach(world, instance.id, Upload("letter.pdf", PDF), who=EFP)
    tasks.complete_task(
        world.uow(), world.user(EFP), review.id, {"decision": "recommend", "signed_letter": [letter.id]}
    )
    [linked] = attachments.attachments_of(world.uow(), world.user(EFP), instance.id)
    assert (linked.task_id, linked.field) == (review.id, "signed_letter")
