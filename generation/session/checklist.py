"""The pre-session checklist: Start stays blocked until every item is answered and none rules
the session out.

The family's consent (scope `therapy`) is read from the vault, never ticked by hand; the
rest the therapist answers after asking the client.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CONTRAINDICATIONS = {
    "acute_suicidality": "Acute suicidality",
    "psychosis": "Psychosis",
    "severe_dissociation": "Severe dissociation",
    "photosensitive_epilepsy": "Photosensitive epilepsy",
}
SUSCEPTIBILITY = ("low", "moderate", "high")


@dataclass
class Checklist:
    adult_client: bool | None = None
    client_consent: bool | None = None
    family_consent_therapy: bool = False  # from the vault's consent record
    contraindications: dict[str, bool | None] = field(default_factory=lambda: dict.fromkeys(CONTRAINDICATIONS))
    cybersickness: str | None = None  # low | moderate | high
    ssq_before: float | None = None  # simulator-sickness total the therapist measured before

    def problems(self) -> list[str]:
        """Why Start is blocked, in plain words; empty when it may start."""
        out = []
        if not self.family_consent_therapy:
            out.append("the family's consent lacks the 'therapy' scope")
        if self.adult_client is None:
            out.append("confirm the client is an adult")
        elif not self.adult_client:
            out.append("the client is not an adult: this program is for adults only")
        if self.client_consent is None:
            out.append("record the client's own consent")
        elif not self.client_consent:
            out.append("the client has not consented")
        for key, label in CONTRAINDICATIONS.items():
            answer = self.contraindications.get(key)
            if answer is None:
                out.append(f"ask about {label.lower()}")
            elif answer:
                out.append(f"{label.lower()} rules out a session")
        if self.cybersickness not in SUSCEPTIBILITY:
            out.append("ask about cybersickness susceptibility")
        return out

    @property
    def complete(self) -> bool:
        return not self.problems()

    def update(self, answers: dict) -> None:
        """Apply the therapist's answers from the console; unknown or ill-typed items raise ValueError."""
        for key, value in answers.items():
            if key in ("adult_client", "client_consent"):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
                setattr(self, key, value)
            elif key in CONTRAINDICATIONS:
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
                self.contraindications[key] = value
            elif key == "cybersickness":
                if value not in SUSCEPTIBILITY:
                    raise ValueError(f"cybersickness must be one of {', '.join(SUSCEPTIBILITY)}")
                self.cybersickness = value
            elif key == "ssq_before":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 236:
                    raise ValueError("ssq_before must be an SSQ total from 0 to 236")
                self.ssq_before = float(value)
            else:
                raise ValueError(f"unknown checklist item {key!r}")

    def to_json(self) -> dict:
        return asdict(self) | {"problems": self.problems(), "complete": self.complete}

    @classmethod
    def from_json(cls, data: dict) -> "Checklist":
        data = {k: v for k, v in data.items() if k not in ("problems", "complete")}
        return cls(**data)
