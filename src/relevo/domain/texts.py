"""Customer-facing wording shared by every process kind, in Spanish and English.

Process-specific wording lives in the definitions; this module holds what the engine says on
its own: who an actor is, status names, and why a control is not available.
"""

from __future__ import annotations

from relevo.domain.definitions import Localized


def L(es: str, en: str) -> Localized:  # noqa: N802 - reads like a literal
    """A Spanish/English text pair."""
    return Localized(es=es, en=en)


ACTORS: dict[str, Localized] = {
    "customer": L("Tú", "You"),
    "us": L("Nosotros", "Us"),
    "current_provider": L("Tu compañía actual", "Your current provider"),
    "central_node": L("El nodo central de portabilidad", "The central portability system"),
    "distributor": L("La distribuidora", "The distribution company"),
    "technician": L("El técnico", "The technician"),
    "courier": L("La empresa de mensajería", "The courier"),
    "billing": L("Facturación", "Billing"),
    "back_office": L("Nuestro equipo", "Our team"),
    "field_service": L("El servicio técnico", "The field service"),
    "new_provider": L("Tu nueva compañía", "Your new provider"),
}

STATUSES: dict[str, Localized] = {
    "active": L("En curso", "In progress"),
    "completed": L("Completado", "Completed"),
    "cancelled": L("Cancelado", "Cancelled"),
    "failed": L("No se pudo completar", "Could not be completed"),
}

STAGE_STATES: dict[str, Localized] = {
    "done": L("Hecho", "Done"),
    "current": L("En curso", "In progress"),
    "pending": L("Pendiente", "To do"),
    "stopped": L("Detenido", "Stopped"),
    "skipped": L("No hizo falta", "Not needed"),
    # After a cancellation or a failure: the stages still ahead will not happen.
    "not_reached": L("No se llegó a hacer", "Did not happen"),
}

REQUIREMENT_STATES: dict[str, Localized] = {
    "missing": L("Falta", "Missing"),
    "submitted": L("Recibido", "Received"),
    "in_review": L("En revisión", "Being checked"),
    "rejected": L("Rechazado", "Not accepted"),
    "accepted": L("Aceptado", "Accepted"),
}

REFUSALS: dict[str, Localized] = {
    "finished": L(
        "Este proceso ya ha terminado, así que ya no se puede cambiar.",
        "This process has already ended, so it can no longer be changed.",
    ),
    "not_for_role": L(
        "Esta acción no está disponible para ti desde este canal.",
        "This action is not available to you through this channel.",
    ),
    "not_in_stage": L(
        "Esta acción no está disponible en este paso del proceso.",
        "This action is not available at this step of the process.",
    ),
    "no_incident": L(
        "Esta acción solo sirve para resolver un problema, y ahora no hay ninguno abierto.",
        "This action only resolves a problem, and there is none open now.",
    ),
    "other_incident": L(
        "Esta acción sirve para resolver otro tipo de problema, no el que tiene ahora tu caso.",
        "This action fixes a different kind of problem from the one your case has now.",
    ),
    "not_applicable": L(
        "Esta acción no se aplica a tu caso.",
        "This action does not apply to your case.",
    ),
    "cutoff_passed": L(
        "El plazo para hacerlo terminó el {until}.",
        "The deadline to do this was {until}.",
    ),
    "invalid_params": L(
        "Revisa los datos marcados: alguno falta o está fuera de los límites.",
        "Please check the marked details: something is missing or out of bounds.",
    ),
}

PARAM_PROBLEMS: dict[str, Localized] = {
    "required": L("Falta este dato.", "This is required."),
    "invalid_date": L("Escribe una fecha válida (AAAA-MM-DD).", "Enter a valid date (YYYY-MM-DD)."),
    "invalid_datetime": L("Escribe una fecha y hora válidas.", "Enter a valid date and time."),
    "too_early": L("La fecha más temprana posible es el {bound}.", "The earliest date is {bound}."),
    "too_late": L("La fecha más tardía posible es el {bound}.", "The latest date is {bound}."),
    "holiday": L(
        "Ese día es festivo ({name}); elige un día laborable.",
        "That day is a public holiday ({name}); choose a working day.",
    ),
    "weekend": L(
        "Ese día es fin de semana; elige un día laborable.",
        "That day is a weekend; choose a working day.",
    ),
    "invalid_choice": L("Elige una de las opciones.", "Choose one of the options."),
    "outside_hours": L(
        "Elige una hora entre las {from} y las {to}.", "Choose a time between {from} and {to}."
    ),
    "invalid_format": L("El formato no es correcto.", "The format is not right."),
    "unknown_param": L("Este dato no se esperaba.", "This detail was not expected."),
}

#: History lines the engine writes around a title of the definition's.
HISTORY_LINES: dict[str, Localized] = {
    "resolved": L("Resuelto: {title}", "Resolved: {title}"),
    # A stage entered again: the process went back a step (a rejected request is sent anew).
    "back_to": L("Vuelve a la etapa: {title}", "Back to the stage: {title}"),
}

CONTROL_UNTIL: Localized = L("Puedes hacerlo hasta el {until}.", "You can do this until {until}.")

#: Said when the date a step was planned for has passed and the step has not happened.
LATE_STEP: Localized = L(
    "Este paso se ha retrasado: estaba previsto para el {date} y aún no ha ocurrido.",
    "This step is late: it was planned for {date} and has not happened yet.",
)

#: What we do about a late step, by who has to act: whom we chase, in each language.
CHASED: dict[str, Localized] = {
    "current_provider": L("a tu compañía actual", "your current provider"),
    "central_node": L("al sistema central de portabilidad", "the central portability system"),
    "distributor": L("a la distribuidora", "the distribution company"),
    "technician": L("al técnico", "the technician"),
    "courier": L("a la empresa de mensajería", "the courier"),
    "field_service": L("al servicio técnico", "the field service"),
    "new_provider": L("a tu nueva compañía", "your new provider"),
}
CHASING: Localized = L(
    "Estamos reclamando {who} una respuesta y te avisaremos en cuanto la tengamos.",
    "We are chasing {who} for an answer and will let you know as soon as we have it.",
)
WORKING_ON_IT: Localized = L(
    "Nuestro equipo ya está en ello y te avisaremos en cuanto avance.",
    "Our team is on it and we will let you know as soon as it moves on.",
)
WAITING_FOR_YOU: Localized = L(
    "Este paso depende de ti: mira más abajo qué necesitamos o escríbenos si tienes dudas.",
    "This step needs you: see below what we need, or get in touch if you have questions.",
)
#: Said after every compensation amount: who sets it (issue 15: never another country's
#: regulator's figure presented as a promise).
COMPENSATION_BASIS: dict[str, Localized] = {
    "regulation": L(
        "Es el importe que fija la normativa.",
        "This is the amount set by regulation.",
    ),
    "commitment": L(
        "Es un compromiso nuestro, recogido en nuestras condiciones; no es un importe fijado "
        "por la normativa.",
        "This is our own commitment under our terms; it is not an amount set by regulation.",
    ),
}
COMPENSATION_ABOVE_MINIMUM: Localized = L(
    "La normativa fija un mínimo de {minimum}; lo que damos por encima es compromiso nuestro.",
    "Regulation sets a minimum of {minimum}; what we give above it is our own commitment.",
)
OWED: Localized = L(
    "Por el retraso te corresponde una compensación de {amount} hasta hoy.",
    "For the delay you are owed {amount} in compensation so far.",
)

#: The agent view's line for a message waiting for the stage that accepts it.
WAITING_MESSAGE: Localized = L(
    "En espera: {type} llegó antes de tiempo; se aplicará cuando el proceso llegue al paso "
    "que lo admite (espera hasta el {until}).",
    "Waiting: {type} arrived early; it applies when the process reaches the step that "
    "accepts it (it waits until {until}).",
)
