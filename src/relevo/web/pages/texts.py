"""The words of the customer's pages, in Spanish and English (the status view brings the
process's own words; these are the page's frame around them)."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("es", "en")

_TEXTS: dict[str, tuple[str, str]] = {
    "skip": ("Saltar al contenido", "Skip to content"),
    "brand": ("Tu cambio", "Your switch"),
    "switch_language": ("English", "Español"),
    "switch_language_lang": ("en", "es"),
    "help": ("Ayuda", "Help"),
    "menu": ("Menú", "Menu"),
    "my_processes": ("Mis trámites", "My requests"),
    "confirmed": ("fecha confirmada", "confirmed date"),
    "estimated": ("fecha estimada", "estimated date"),
    "late": ("con retraso", "late"),
    "next_title": ("Qué pasa ahora", "What happens next"),
    "who": ("Quién tiene que actuar", "Who acts next"),
    "when": ("Cuándo", "When"),
    "needed_title": ("Lo que necesitamos de ti", "What we need from you"),
    "incidents_title": ("Algo no ha ido bien", "What went wrong"),
    "what_happened": ("Qué ha pasado", "What happened"),
    "what_we_do": ("Qué estamos haciendo", "What we are doing"),
    "what_you_can_do": ("Qué puedes hacer", "What you can do"),
    "resolved": ("Resuelto", "Resolved"),
    "stages_title": ("Las etapas", "The stages"),
    "dates_title": ("Fechas importantes", "Important dates"),
    "controls_title": ("Qué puedes hacer", "What you can do"),
    "not_now": ("Ahora no es posible", "Not possible now"),
    "instead": ("Qué puedes hacer en su lugar", "What you can do instead"),
    "until": ("Hasta", "Until"),
    "other_controls": (
        "Otras acciones, que ahora no puedes usar ({count})",
        "Other actions, which you cannot use now ({count})",
    ),
    "nothing_now": (
        "Ahora mismo no tienes que hacer nada.",
        "There is nothing you need to do right now.",
    ),
    "nothing_now_finished": (
        "Este trámite ha terminado: ya no se puede cambiar.",
        "This request has finished: it can no longer be changed.",
    ),
    "history_title": ("Historial", "History"),
    "contact_title": ("Hablar con una persona", "Talk to a person"),
    "contact_text": (
        "Llámanos al 1004 (gratis, de 9:00 a 21:00) o escríbenos desde la app. "
        "Di esta referencia para que vean tu trámite:",
        "Call us on 1004 (free, 9:00 to 21:00) or write to us from the app. "
        "Give this reference so they can see your request:",
    ),
    "contact_short": (
        "Llámanos al 1004 (gratis, de 9:00 a 21:00) o escríbenos desde la app.",
        "Call us on 1004 (free, 9:00 to 21:00) or write to us from the app.",
    ),
    "reference": ("Referencia", "Reference"),
    "by_customer": ("por ti", "by you"),
    "by_agent": ("por nuestro equipo", "by our team"),
    "by_system": ("automáticamente", "automatically"),
    "list_title": ("Tus trámites", "Your requests"),
    "list_empty": ("No tienes trámites con nosotros.", "You have no requests with us."),
    "active": ("En curso", "In progress"),
    "finished": ("Terminados", "Finished"),
    "open": ("Ver", "View"),
    "continue": ("Continuar", "Continue"),
    "confirm": ("Confirmar", "Confirm"),
    "change": ("Cambiar", "Change"),
    "back": ("Volver a tu trámite", "Back to your request"),
    "check_title": ("Revisa antes de confirmar", "Check before you confirm"),
    "optional": ("(opcional)", "(optional)"),
    "choose_file": (
        "PDF, JPG o PNG de hasta 10 MB.",
        "PDF, JPG or PNG, up to 10 MB.",
    ),
    "consequences": ("Qué va a pasar", "What will happen"),
    "irreversible": (
        "Esto no se puede deshacer.",
        "This cannot be undone.",
    ),
    "refused_title": ("No hemos podido hacerlo", "We could not do it"),
    "errors_title": ("Hay un problema", "There is a problem"),
    "done_title": ("Hecho", "Done"),
    "done_text": (
        "Hemos registrado tu petición: {control}.",
        "We have recorded your request: {control}.",
    ),
    "allowed_days": (
        "Elige un día entre el {min} y el {max}.",
        "Choose a day from {min} to {max}.",
    ),
    "not_found_title": ("No encontramos esta página", "We cannot find this page"),
    "not_found_text": (
        "Puede que la dirección esté mal escrita o que no tengas acceso a este trámite. "
        "Abre el enlace de tu último mensaje.",
        "The address may be mistyped, or you may not have access to this request. "
        "Open the link in your latest message.",
    ),
    "signed_out_title": ("Tu sesión ha terminado", "Your session has ended"),
    "signed_out_text": (
        "Por seguridad, abre de nuevo el enlace de tu último SMS o correo.",
        "For your security, open the link in your latest text message or e-mail again.",
    ),
    "link_expired_title": ("Este enlace ha caducado", "This link has expired"),
    "link_expired_text": (
        "Los enlaces caducan para proteger tus datos. Podemos enviarte uno nuevo al móvil o "
        "al correo que nos diste.",
        "Links expire to protect your data. We can send you a new one to the mobile or "
        "e-mail you gave us.",
    ),
    "link_invalid_title": ("Este enlace no es válido", "This link is not valid"),
    "link_invalid_text": (
        "Puede que se haya copiado incompleto. Ábrelo directamente desde tu SMS o correo, o "
        "pide uno nuevo con la referencia de tu trámite.",
        "It may have been copied incompletely. Open it straight from your text message or "
        "e-mail, or ask for a new one with your request's reference.",
    ),
    "csrf_title": ("No hemos podido enviar el formulario", "We could not send the form"),
    "csrf_text": (
        "Por seguridad, vuelve a tu trámite y envíalo otra vez.",
        "For your security, go back to your request and send it again.",
    ),
    "too_long": (
        "Es demasiado largo: como mucho {max} caracteres.",
        "Too long: {max} characters at most.",
    ),
    "bad_characters": (
        "Contiene caracteres no válidos.",
        "It contains characters we cannot accept.",
    ),
    "required": ("Rellena este campo.", "Fill in this field."),
    "bad_date": (
        "Escribe una fecha válida, por ejemplo 2025-03-12.",
        "Enter a real date, for example 2025-03-12.",
    ),
    "bad_file_type": (
        "El archivo debe ser un PDF, JPG o PNG.",
        "The file must be a PDF, JPG or PNG.",
    ),
    "file_too_big": ("El archivo pesa más de 10 MB.", "The file is larger than 10 MB."),
    "file_empty": ("Elige un archivo.", "Choose a file."),
    "bad_form": (
        "No hemos podido leer el formulario. Inténtalo de nuevo.",
        "We could not read the form. Please try again.",
    ),
    # -- access: used-up links, new links, one-time codes, rate limits ------------------
    "link_used_title": ("Este enlace ya se ha usado", "This link has already been used"),
    "link_used_text": (
        "Por seguridad, cada enlace sirve solo durante unos minutos desde que lo abres por "
        "primera vez. Podemos enviarte uno nuevo al móvil o al correo que nos diste.",
        "For your security, each link works only for a few minutes after you first open it. "
        "We can send you a new one to the mobile or e-mail you gave us.",
    ),
    "new_link_button": ("Enviarme un enlace nuevo", "Send me a new link"),
    "new_link_title": ("Pide un enlace nuevo", "Ask for a new link"),
    "new_link_intro": (
        "Escribe la referencia de tu trámite. Enviaremos el enlace al móvil o al correo que "
        "nos diste, nunca a otro.",
        "Type your request's reference. We will send the link to the mobile or e-mail you "
        "gave us, never anywhere else.",
    ),
    "reference_label": ("Referencia del trámite", "Request reference"),
    "reference_hint": (
        "Está en tus SMS y correos, por ejemplo prc_8f3a…",
        "It is in your text messages and e-mails, for example prc_8f3a…",
    ),
    "new_link_sent_title": (
        "Si te conocemos, tu enlace va de camino",
        "If we know you, a new link is on its way",
    ),
    "new_link_sent_text": (
        "Si la referencia es de un trámite nuestro, enviamos un enlace nuevo al móvil o al "
        "correo que nos diste. Puede tardar unos minutos. Si no llega, llámanos al 1004.",
        "If the reference is one of our requests, we are sending a new link to the mobile or "
        "e-mail you gave us. It may take a few minutes. If it does not arrive, call us on "
        "1004.",
    ),
    "too_many_title": ("Demasiadas peticiones seguidas", "Too many requests in a row"),
    "too_many_links_text": (
        "Por seguridad, espera un poco: podrás pedir otro enlace a partir del {when}.",
        "For your security, please wait: you can ask for another link from {when}.",
    ),
    "too_many_codes_text": (
        "Por seguridad, espera un poco: podrás pedir otro código a partir del {when}.",
        "For your security, please wait: you can ask for another code from {when}.",
    ),
    "code_label": ("Código de 6 cifras", "6-digit code"),
    "code_intro": (
        "Para confirmar, te enviaremos un código de 6 cifras {where}.",
        "To confirm, we will send you a 6-digit code {where}.",
    ),
    "code_to_sms": ("por SMS al {to}", "by text message to {to}"),
    "code_to_email": ("por correo a {to}", "by e-mail to {to}"),
    "code_send": ("Enviarme el código", "Send me the code"),
    "code_sent": (
        "Te hemos enviado un código {where}. Caduca el {until}.",
        "We have sent you a code {where}. It expires on {until}.",
    ),
    "code_hint": (
        "Puedes pegarlo tal cual: los espacios y guiones no importan.",
        "You can paste it as it is: spaces and dashes do not matter.",
    ),
    "code_again": ("Enviarme otro código", "Send me another code"),
    "code_no_contact": (
        "No tenemos un móvil ni un correo para enviarte el código. Llámanos al 1004 (gratis) "
        "y lo hacemos contigo.",
        "We have no mobile or e-mail to send you the code. Call us on 1004 (free) and we will "
        "do it with you.",
    ),
    "code_malformed": (
        "Escribe las 6 cifras del código, por ejemplo 123456.",
        "Type the 6 digits of the code, for example 123456.",
    ),
    "code_wrong": (
        "El código no es correcto. Te quedan {left} intentos.",
        "That code is not right. You have {left} tries left.",
    ),
    "code_expired": (
        "El código ha caducado. Pide uno nuevo.",
        "The code has expired. Ask for a new one.",
    ),
    "code_too_many": (
        "Has escrito un código incorrecto demasiadas veces. Pide uno nuevo.",
        "A wrong code was typed too many times. Ask for a new one.",
    ),
    "code_used": (
        "Ese código ya se ha usado. Pide uno nuevo.",
        "That code was already used. Ask for a new one.",
    ),
    "code_none": (
        "Primero pide el código con el botón «Enviarme el código».",
        "First ask for the code with the “Send me the code” button.",
    ),
    "live_updated": (
        "Actualizado a las {time}: {headline}",
        "Updated at {time}: {headline}",
    ),
    "footer_call": ("Ayuda: llámanos al", "Help: call us on"),
    "footer_write": ("o escríbenos a", "or write to us at"),
}


def texts(lang: str) -> Mapping[str, str]:
    """Every page text in ``lang`` (``es`` unless ``en``)."""
    return _BY_LANG["en" if lang == "en" else "es"]


_BY_LANG = {
    "es": {key: pair[0] for key, pair in _TEXTS.items()},
    "en": {key: pair[1] for key, pair in _TEXTS.items()},
}


def pick_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    """The page's language: ``?lang=`` first, then the remembered choice, then the browser's
    ``Accept-Language`` (by preference order), then Spanish."""
    for chosen in (query, cookie):
        if chosen in LANGUAGES:
            return chosen
    for tag, _ in sorted(_accepted(accept or ""), key=lambda pair: -pair[1]):
        primary = tag.split("-")[0].strip().lower()
        if primary in LANGUAGES:
            return primary
    return "es"


def _accepted(header: str) -> list[tuple[str, float]]:
    """``Accept-Language`` as (tag, weight) pairs, in header order; odd parts are skipped."""
    pairs: list[tuple[str, float]] = []
    for part in header[:500].split(","):
        tag, _, params = part.partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        pairs.append((tag.strip(), weight))
    return pairs
