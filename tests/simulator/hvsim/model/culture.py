"""What Windows localises for the OS's display language, per culture (RULES #47).

The simulator keeps every name in English internally; these tables give what a de-DE or fr-FR host
shows instead. The collection's scripts must never depend on them: integration services by the
GUID in their Id, states by enum names, features by their feature name.
"""
from __future__ import annotations

CULTURES = ("en-US", "de-DE", "fr-FR")

# Get-VMIntegrationService Name. "Takt" (de-DE Heartbeat): the MSDN forum thread "Get-VMIntegrationService
# sprachabhängig" that hashicorp/vagrant cites in plugins/providers/hyperv/driver.rb; the others are
# realistic, not doc-sourced (Hyper-V Manager's German and French strings as commonly seen).
INTEGRATION_SERVICE_NAMES: dict[str, dict[str, str]] = {
    "de-DE": {
        "Heartbeat": "Takt",
        "Shutdown": "Herunterfahren des Betriebssystems",
        "Time Synchronization": "Zeitsynchronisierung",
        "Key-Value Pair Exchange": "Austausch von Schlüsselwertepaaren",
        "VSS": "Volumeschattenkopie-Anforderer",
        "Guest Service Interface": "Gastdienstschnittstelle",
    },
    "fr-FR": {
        "Heartbeat": "Pulsation",
        "Shutdown": "Arrêt du système d\u2019exploitation",
        "Time Synchronization": "Synchronisation date/heure",
        "Key-Value Pair Exchange": "Échange de paires clé-valeur",
        "VSS": "Demandeur VSS",
        "Guest Service Interface": "Interface de services d\u2019invité",
    },
}

# Get-WindowsOptionalFeature / Get-WindowsFeature DisplayName (realistic, not doc-sourced).
FEATURE_DISPLAY_NAMES: dict[str, dict[str, str]] = {
    "de-DE": {"Hyper-V": "Hyper-V", "Microsoft-Hyper-V": "Hyper-V",
              "Hyper-V-PowerShell": "Hyper-V-Modul für Windows PowerShell"},
    "fr-FR": {"Hyper-V": "Hyper-V", "Microsoft-Hyper-V": "Hyper-V",
              "Hyper-V-PowerShell": "Module Hyper-V pour Windows PowerShell"},
}

# Cmdlet error texts the simulator raises, by their English text's start (realistic translations).
ERROR_TEXTS: dict[str, dict[str, str]] = {
    "de-DE": {
        "You do not have the required permission to complete this task.":
            "Sie verfügen nicht über die erforderliche Berechtigung zum Ausführen dieser Aufgabe.",
        "Contact the administrator of the authorization policy for the computer":
            "Wenden Sie sich an den Administrator der Autorisierungsrichtlinie für den Computer",
        "Access is denied.": "Zugriff verweigert",
        "The operation cannot be performed while the object is in its current state.":
            "Der Vorgang kann im aktuellen Zustand des Objekts nicht ausgeführt werden.",
        "failed to change state.": "konnte den Status nicht ändern.",
        "The parameter is incorrect.": "Falscher Parameter.",
    },
    "fr-FR": {
        "You do not have the required permission to complete this task.":
            "Vous ne disposez pas de l\u2019autorisation requise pour effectuer cette tâche.",
        "Contact the administrator of the authorization policy for the computer":
            "Contactez l\u2019administrateur de la stratégie d\u2019autorisation de l\u2019ordinateur",
        "Access is denied.": "Accès refusé.",
        "The operation cannot be performed while the object is in its current state.":
            "Impossible d\u2019effectuer l\u2019opération lorsque l\u2019objet est dans son état actuel.",
        "failed to change state.": "n\u2019a pas pu changer d\u2019état.",
        "The parameter is incorrect.": "Paramètre incorrect.",
    },
}


def integration_service_name(culture: str, name: str) -> str:
    return INTEGRATION_SERVICE_NAMES.get(culture, {}).get(name, name)


def feature_display_name(culture: str, feature: str, english: str) -> str:
    return FEATURE_DISPLAY_NAMES.get(culture, {}).get(feature, english)


def error_text(culture: str, message: str) -> str:
    """An error message as a host of `culture` words it (English parts it does not know stay)."""
    for english, local in ERROR_TEXTS.get(culture, {}).items():
        message = message.replace(english, local)
    return message


def decimal_separator(culture: str) -> str:
    """NumberFormatInfo.NumberDecimalSeparator: a comma in de-DE and fr-FR (.NET culture data)."""
    return "," if culture in ("de-DE", "fr-FR") else "."
