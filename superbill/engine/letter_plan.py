"""The prior-authorization plan as a claim: the codes and units one session of the plan bills.

The letter quotes these figures and `check` scrubs them, so a plan the scrubber would reject is
refused before a letter is written.
"""

from __future__ import annotations

from superbill.problems import Problem


def plan_session(request):
    """A synthetic session with the plan's services, medications and infusion length."""
    from superbill.inputs.models import Infusion, Session

    minutes = request.plan.infusion_minutes
    infusion = Infusion(start="00:00", end=f"{minutes // 60:02d}:{minutes % 60:02d}")
    return Session(
        date=request.plan.start,
        provider=request.provider,
        diagnoses=request.diagnoses,
        infusion=infusion,
        medications=request.plan.medications,
        services=request.plan.services,
        place_of_service=request.plan.place_of_service,
    )


def plan_claim(request, patient_file, loaded):
    from superbill.engine.claims import build_claims
    from superbill.inputs.models import PatientFile

    single = PatientFile(patient=patient_file.patient, insurance=patient_file.insurance,
                         sessions=[plan_session(request)])
    return build_claims(single, loaded.clinic, loaded.book)[0]


def plan_problems(request, loaded, file: str, patient_file=None) -> list[Problem]:
    """Scrubber problems of one planned session, reported against the request file's `plan`."""
    from pathlib import Path

    from superbill.engine.scrub import scrub
    from superbill.inputs.load import load_patient

    if patient_file is None:
        patient_file = load_patient(Path(file).parent / request.patient, loaded)
    claim = plan_claim(request, patient_file, loaded)
    problems = scrub(claim, loaded.book, file=file, billing_npi=loaded.clinic.practice.npi)
    def remap(path: str) -> str:
        return "plan" + path[len("sessions[0]"):] if path.startswith("sessions[0]") else path

    return [Problem(p.file, remap(p.path), p.severity, p.message) for p in problems]
