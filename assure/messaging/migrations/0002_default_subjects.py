"""The default teams and subjects; the fund changes them as data afterwards."""

from django.db import migrations

TEAMS = [
    ("remboursements", "Remboursements", "Reimbursements"),
    ("indemnites", "Indemnités journalières", "Daily allowances"),
    ("cartes", "Cartes", "Cards"),
    ("droits", "Droits et attestations", "Entitlements and certificates"),
    ("relation", "Relation assurés", "Member relations"),
]

SUBJECTS = [
    (
        "remboursements",
        "Mes remboursements",
        "My reimbursements",
        "Un remboursement attendu, un montant à comprendre, une feuille de soins envoyée.",
        "An expected reimbursement, an amount to understand, a care form you sent.",
        "remboursements",
    ),
    (
        "indemnites",
        "Mes indemnités journalières",
        "My daily allowances",
        "Un arrêt de travail, un paiement d'indemnités, une attestation de salaire.",
        "A sick leave, an allowance payment, a salary statement.",
        "indemnites",
    ),
    (
        "carte-vitale",
        "Ma carte Vitale",
        "My carte Vitale",
        "Une carte perdue, volée ou abîmée, une photo, une mise à jour.",
        "A lost, stolen or damaged card, a photo, an update.",
        "cartes",
    ),
    (
        "carte-europeenne",
        "Ma carte européenne",
        "My European card",
        "Une commande de carte européenne d'assurance maladie ou son certificat provisoire.",
        "An order for a European Health Insurance Card or its provisional certificate.",
        "cartes",
    ),
    (
        "attestations",
        "Mes attestations",
        "My certificates",
        "Une attestation de droits, d'indemnités ou fiscale que vous ne trouvez pas.",
        "An entitlement, allowance or tax certificate you cannot find.",
        "droits",
    ),
    (
        "changement-situation",
        "Changement de situation",
        "Change of circumstances",
        "Un déménagement, une naissance, un mariage, un nouvel emploi.",
        "A move, a birth, a marriage, a new job.",
        "droits",
    ),
    (
        "mon-compte",
        "Mon compte",
        "My account",
        "Votre code secret, vos coordonnées, l'accès à votre espace.",
        "Your secret code, your contact details, access to your space.",
        "relation",
    ),
    (
        "reclamation",
        "Réclamation",
        "Complaint",
        "Vous n'êtes pas satisfait d'une réponse ou d'une décision de la caisse.",
        "You are not satisfied with an answer or a decision of the fund.",
        "relation",
    ),
]


def load(apps, schema_editor):
    Team = apps.get_model("messaging", "Team")
    Subject = apps.get_model("messaging", "Subject")
    teams = {}
    for code, name, name_en in TEAMS:
        teams[code], _ = Team.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en}
        )
    for order, (code, label, label_en, help_fr, help_en, team) in enumerate(SUBJECTS, start=1):
        Subject.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "label_en": label_en,
                "help_text": help_fr,
                "help_text_en": help_en,
                "team": teams[team],
                "order": order * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
