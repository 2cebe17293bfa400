"""The console's labels in French (the fund's agents) and English, chosen from `Accept-Language`.

A small catalogue: one key, two texts. French is the default; English is used when the browser
prefers it (a higher quality value for `en` than for `fr`, RFC 9110 §12.5.4).
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("fr", "en")
DEFAULT = "fr"

CATALOGUE: dict[str, tuple[str, str]] = {
    # navigation
    "console": ("Console des opérateurs", "Operators' console"),
    "nav": ("Navigation principale", "Main navigation"),
    "dashboard": ("Tableau de bord", "Dashboard"),
    "refused": ("Titres refusés", "Refused titles"),
    "collections": ("Prélèvements et reversements", "Collections and payouts"),
    "deliveries": ("Livraisons", "Deliveries"),
    "archive": ("Archive", "Archive"),
    "audit": ("Journal d'audit", "Audit log"),
    "signed_in_as": ("Connecté avec le certificat", "Signed in with the certificate"),
    "skip": ("Aller au contenu", "Skip to content"),
    # dashboard
    "titles_today": ("Titres reçus aujourd'hui", "Titles received today"),
    "titles_month": ("Titres reçus ce mois-ci", "Titles received this month"),
    "source": ("Source", "Source"),
    "today": ("Aujourd'hui", "Today"),
    "this_month": ("Ce mois-ci", "This month"),
    "accepted": ("Acceptés", "Accepted"),
    "rejected": ("Refusés", "Refused"),
    "total": ("Total", "Total"),
    "chart_titles": (
        "Titres du mois par source : acceptés et refusés",
        "This month's titles by source: accepted and refused",
    ),
    "latest_refused": ("Derniers titres refusés", "Latest refused titles"),
    "next_collection": ("Prochain prélèvement", "Next collection"),
    "period": ("Période", "Period"),
    "date": ("Date", "Date"),
    "expected_total": ("Montant attendu", "Expected total"),
    "debits": ("Prélèvements", "Debits"),
    "forecast_pending": (
        "Calcul en cours, rechargez la page dans un instant.",
        "Being computed, reload the page in a moment.",
    ),
    "computed_at": ("calculé le", "computed at"),
    "pending_mandates": ("Mandats en attente", "Pending mandates"),
    "without_mandate": ("Dossiers sans mandat signé", "Dossiers without a signed mandate"),
    "without_payout_account": ("Dossiers sans compte de reversement", "Dossiers without a payout account"),
    "pending_amendments": ("Modifications de mandat à transmettre", "Mandate amendments to send"),
    "dead_deliveries": ("Livraisons en échec définitif", "Dead deliveries"),
    "last_checkpoint": ("Dernier point de contrôle", "Last checkpoint"),
    "verify_status": ("Vérification de l'archive", "Archive verification"),
    "never_verified": ("Jamais vérifiée depuis la console", "Never verified from the console"),
    "ok": ("intègre", "intact"),
    "not_ok": ("ANOMALIE", "PROBLEM"),
    "none": ("aucun", "none"),
    # refused titles
    "filters": ("Filtres", "Filters"),
    "code": ("Code", "Code"),
    "from": ("Du", "From"),
    "to": ("Au", "To"),
    "any": ("Toutes", "Any"),
    "apply": ("Filtrer", "Filter"),
    "received_at": ("Reçu le", "Received"),
    "sender": ("Émetteur", "Sender"),
    "errors": ("Erreurs", "Errors"),
    "field": ("Champ (chemin de l'émetteur)", "Field (sender's path)"),
    "message": ("Message", "Message"),
    "payload": ("Contenu reçu (archivé)", "Received payload (archived)"),
    "receipt": ("Accusé", "Receipt"),
    "no_refused": ("Aucun titre refusé.", "No refused title."),
    "next_page": ("Page suivante", "Next page"),
    # dossier
    "dossier": ("Dossier", "Dossier"),
    "find_dossier": ("Ouvrir un dossier", "Open a dossier"),
    "dossier_id": ("Identifiant du dossier", "Dossier id"),
    "open": ("Ouvrir", "Open"),
    "title": ("Titre", "Title"),
    "debtor": ("Débiteur", "Debtor"),
    "creditor": ("Créancier", "Creditor"),
    "children": ("Enfants", "Children"),
    "violence": ("Violences alléguées", "Violence alleged"),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "iban": ("IBAN", "IBAN"),
    "bic": ("BIC", "BIC"),
    "holder": ("Titulaire", "Holder"),
    "name": ("Nom", "Name"),
    "nir": ("NIR", "NIR"),
    "birth_date": ("Né(e) le", "Born on"),
    "address": ("Adresse", "Address"),
    "monthly_total": ("Total mensuel", "Monthly total"),
    "monthly_amount": ("Montant mensuel", "Monthly amount"),
    "effective_date": ("Date d'effet", "Effective date"),
    "end_date": ("Date de fin", "End date"),
    "intermediation": ("Intermédiation", "Intermediation"),
    "handling_body": ("Organisme", "Handling body"),
    "reference": ("Référence", "Reference"),
    "schedule": ("Échéancier par enfant", "Schedule per child"),
    "child": ("Enfant", "Child"),
    "ledger": ("Relevé des impayés", "Arrears ledger"),
    "ledger_chart": (
        "Mois par mois : dû, payé et ASF avancée (euros)",
        "Month by month: due, paid and ASF advanced (euros)",
    ),
    "due": ("Dû", "Due"),
    "paid": ("Payé", "Paid"),
    "unpaid": ("Impayé", "Unpaid"),
    "asf": ("ASF avancée", "ASF advanced"),
    "asf_net": ("dont net de CRDS", "net of CRDS"),
    "ledger_per_child": ("Par enfant", "Per child"),
    "status": ("État", "Status"),
    "reason": ("Motif", "Reason"),
    "no_ledger": ("Aucun prélèvement encore.", "No debit yet."),
    "events": ("Événements", "Events"),
    "type": ("Type", "Type"),
    "receipts": ("Accusés de réception signés", "Signed receipts"),
    "signature": ("Signature", "Signature"),
    "signature_valid": ("signature valide", "valid signature"),
    "signature_invalid": ("signature NON valide", "signature NOT valid"),
    "signed_by": ("signé par", "signed by"),
    "mandate": ("Mandat de prélèvement", "Direct debit mandate"),
    "no_mandate": (
        "Pas encore de mandat (créé au premier prélèvement).",
        "No mandate yet (created at the first collection).",
    ),
    "signed_on": ("Signé le", "Signed on"),
    "pending_amendment": ("Modification en attente", "Pending amendment"),
    "record_signature": ("Enregistrer la signature du mandat", "Record the mandate's signature"),
    "signature_date": ("Date de signature", "Signature date"),
    "method": ("Forme", "Form"),
    "method_paper": ("papier", "paper"),
    "method_electronic": ("électronique", "electronic"),
    "debit_day": ("Jour de prélèvement", "Debit day"),
    "mandate_status": ("Statut", "Status"),
    "status_signed": ("signé", "signed"),
    "status_pending": ("en attente de la signature du débiteur", "waiting for the debtor's signature"),
    "prefilled": ("Compte pré-rempli depuis le titre", "Account pre-filled from the title"),
    "amend_account": ("Modifier le compte du débiteur", "Amend the debtor's account"),
    "new_iban": ("Nouvel IBAN", "New IBAN"),
    "new_bic": ("Nouveau BIC (facultatif)", "New BIC (optional)"),
    "new_holder": ("Nouveau titulaire (facultatif)", "New holder (optional)"),
    "submit": ("Continuer", "Continue"),
    "confirm": ("Confirmer", "Confirm"),
    "cancel": ("Annuler", "Cancel"),
    "confirm_title": ("Confirmez l'action", "Confirm the action"),
    "done": ("Action effectuée et archivée.", "Action done and archived."),
    "failed": ("Action refusée", "Action refused"),
    "back": ("Retour", "Back"),
    # collections
    "files": ("Fichiers émis", "Files emitted"),
    "kind": ("Type", "Kind"),
    "label": ("Libellé", "Label"),
    "created_at": ("Créé le", "Created"),
    "count": ("Nombre", "Count"),
    "sum": ("Somme", "Sum"),
    "bank_status": ("État d'après la banque", "Status from the bank"),
    "download": ("Télécharger", "Download"),
    "signed_file": ("fichier", "file"),
    "detached_signature": ("signature", "signature"),
    "bank_imports": ("Relevés bancaires importés", "Bank reports imported"),
    "imported_at": ("Importé le", "Imported"),
    "outcomes": ("Résultats", "Outcomes"),
    "reason_codes": ("Codes motif", "Reason codes"),
    "anomalies": ("Anomalies", "Anomalies"),
    "no_files": ("Aucun fichier émis.", "No file emitted."),
    "no_reports": ("Aucun relevé importé.", "No report imported."),
    # deliveries
    "subscription": ("Abonnement", "Subscription"),
    "pending": ("En attente", "Pending"),
    "failing": ("En échec (nouvel essai prévu)", "Failing (retry planned)"),
    "dead": ("Abandonnées", "Dead"),
    "attempts": ("Essais", "Attempts"),
    "last_error": ("Dernière erreur", "Last error"),
    "event": ("Événement", "Event"),
    "retry": ("Relancer", "Retry"),
    "retry_all": ("Relancer toutes les livraisons abandonnées", "Retry every dead delivery"),
    "no_dead": ("Aucune livraison abandonnée.", "No dead delivery."),
    "no_deliveries": ("Aucune livraison.", "No delivery."),
    # archive
    "checkpoints": ("Points de contrôle signés", "Signed checkpoints"),
    "size": ("Taille", "Size"),
    "root_hash": ("Racine", "Root hash"),
    "time": ("Heure", "Time"),
    "run_verify": ("Vérifier toute l'archive", "Verify the whole archive"),
    "sign_checkpoint": ("Signer un point de contrôle maintenant", "Sign a checkpoint now"),
    "entries": ("Entrées", "Entries"),
    "problems": ("Problèmes", "Problems"),
    "proof": ("Preuve d'inclusion", "Inclusion proof"),
    "entry_seq": ("Numéro d'entrée", "Entry number"),
    "show_proof": ("Afficher la preuve", "Show the proof"),
    "proof_valid": ("preuve vérifiée", "proof verified"),
    "archive_size": ("Entrées dans l'archive", "Entries in the archive"),
    # audit
    "at": ("Quand", "When"),
    "operator": ("Opérateur", "Operator"),
    "action": ("Action", "Action"),
    "target": ("Objet", "Target"),
    "outcome": ("Résultat", "Outcome"),
    "details": ("Détails", "Details"),
    "no_audit": ("Aucune action encore.", "No action yet."),
}


def negotiate(accept_language: str | None) -> str:
    """`en` when the browser prefers English to French, else `fr`."""
    if not accept_language:
        return DEFAULT
    best: dict[str, float] = {}
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if language == "*":
            language = DEFAULT
        if language in LANGUAGES and quality > 0:
            # among equal qualities the first listed wins
            score = quality - position * 1e-6
            best[language] = max(best.get(language, -1.0), score)
    if not best:
        return DEFAULT
    return max(best, key=lambda lang: best[lang])


def translator(language: str) -> Callable[[str], str]:
    """`t(key)`: the label in `language` (the key itself when it is missing, so a gap shows)."""
    index = LANGUAGES.index(language) if language in LANGUAGES else 0

    def t(key: str) -> str:
        entry = CATALOGUE.get(key)
        return key if entry is None else entry[index]

    return t
