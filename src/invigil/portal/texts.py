# ruff: noqa: E501 - prose in four languages: sentences are easier to translate and review unbroken
"""Every string of the student portal (the page, web/templates/portal*.html, and its script,
web/static/portal.js) in English, Danish, German and Swedish, in one table.

One message, its four languages side by side (docs/adr/0018-candidate-translations.md): a reviewer
reads a sentence and its translations together, and a test checks that each message has all four
languages and the same placeholders. The script gets its messages (``JS``) from the page, as JSON in
a data attribute: the portal's Content-Security-Policy allows no inline script.

Vocabulary as in the privacy notice (privacy/texts.py) and Danish, German and Swedish data-protection
texts: markering / Markierung / markering for a flag; afgørelse / Entscheidung / beslut for a
decision; afleveringskvittering / Abgabequittung / inlämningskvitto for the hand-in receipt.
"""

from __future__ import annotations

import string

from invigil.privacy.notice import language
from invigil.privacy.texts import LANGUAGES

# Each language names itself in the language switch.
LANGUAGE_NAMES = {"en": "English", "da": "Dansk", "de": "Deutsch", "sv": "Svenska"}

M: dict[str, dict[str, str]] = {
    # ---- frame -------------------------------------------------------------------------------------
    "skip": {
        "en": "Skip to main content",
        "da": "Gå til hovedindholdet",
        "de": "Zum Hauptinhalt springen",
        "sv": "Hoppa till huvudinnehållet",
    },
    "language": {"en": "Language", "da": "Sprog", "de": "Sprache", "sv": "Språk"},
    "footer": {
        "en": "Invigil · proctoring designed for privacy",
        "da": "Invigil · eksamenstilsyn med databeskyttelse indbygget",
        "de": "Invigil · Prüfungsaufsicht mit eingebautem Datenschutz",
        "sv": "Invigil · tentamensövervakning med inbyggt dataskydd",
    },
    "not_found_title": {
        "en": "This link is not valid",
        "da": "Linket er ikke gyldigt",
        "de": "Dieser Link ist nicht gültig",
        "sv": "Länken är inte giltig",
    },
    "not_found_text": {
        "en": "Please check that you copied the whole link from your hand-in receipt. If it still does not work, contact the exam office.",
        "da": "Kontrollér, at du har kopieret hele linket fra din afleveringskvittering. Hvis det stadig ikke virker, så kontakt eksamenskontoret.",
        "de": "Bitte prüfen Sie, ob Sie den vollständigen Link von Ihrer Abgabequittung kopiert haben. Funktioniert er weiterhin nicht, wenden Sie sich bitte an das Prüfungsamt.",
        "sv": "Kontrollera att du har kopierat hela länken från ditt inlämningskvitto. Om den ändå inte fungerar, kontakta tentamensexpeditionen.",
    },
    "deleted_title": {
        "en": "Your exam data has been deleted",
        "da": "Dine eksamensdata er slettet",
        "de": "Ihre Prüfungsdaten wurden gelöscht",
        "sv": "Dina tentamensuppgifter har raderats",
    },
    "deleted_text": {
        "en": "Everything recorded about you in this exam was deleted on {date}.",
        "da": "Alt, hvad der blev optaget om dig ved denne eksamen, blev slettet den {date}.",
        "de": "Alles, was in dieser Prüfung über Sie aufgezeichnet wurde, wurde am {date} gelöscht.",
        "sv": "Allt som spelades in om dig vid den här tentamen raderades den {date}.",
    },
    # ---- heading and summary -----------------------------------------------------------------------
    "title": {
        "en": "Your exam data",
        "da": "Dine eksamensdata",
        "de": "Ihre Prüfungsdaten",
        "sv": "Dina tentamensuppgifter",
    },
    "lead": {
        "en": "This page shows everything that was recorded about you in this exam, what has become of it, and who has opened it.",
        "da": "Her kan du se alt, hvad der blev optaget om dig ved denne eksamen, hvad der er sket med det, og hvem der har åbnet det.",
        "de": "Hier sehen Sie alles, was in dieser Prüfung über Sie aufgezeichnet wurde, was damit geschehen ist und wer es geöffnet hat.",
        "sv": "Här ser du allt som spelades in om dig vid den här tentamen, vad som har hänt med det och vem som har öppnat det.",
    },
    "exam": {"en": "Exam", "da": "Eksamen", "de": "Prüfung", "sv": "Tentamen"},
    "pseudonym": {
        "en": "Your pseudonym",
        "da": "Dit pseudonym",
        "de": "Ihr Pseudonym",
        "sv": "Din pseudonym",
    },
    "handed_in": {"en": "Handed in", "da": "Afleveret", "de": "Abgegeben", "sv": "Inlämnad"},
    "time_zone": {
        "en": "Times are shown in the exam's time zone, {tz}.",
        "da": "Tidspunkter vises i eksamens tidszone, {tz}.",
        "de": "Zeiten werden in der Zeitzone der Prüfung angegeben: {tz}.",
        "sv": "Tider visas i tentamens tidszon, {tz}.",
    },
    "contents": {
        "en": "On this page",
        "da": "På denne side",
        "de": "Auf dieser Seite",
        "sv": "På den här sidan",
    },
    # ---- opening the recordings ---------------------------------------------------------------------
    "h_open": {
        "en": "Open your recordings",
        "da": "Åbn dine optagelser",
        "de": "Ihre Aufzeichnungen öffnen",
        "sv": "Öppna dina inspelningar",
    },
    "open_intro": {
        "en": "Your screenshots, camera pictures and logs are encrypted. Enter the secret printed on your hand-in receipt to open them here, in this browser. The secret is never sent anywhere: not even the institution learns it.",
        "da": "Dine skærmbilleder, kamerabilleder og logfiler er krypterede. Indtast koden fra din afleveringskvittering for at åbne dem her i din browser. Koden sendes aldrig nogen steder hen – heller ikke institutionen får den at se.",
        "de": "Ihre Bildschirmaufnahmen, Kamerabilder und Protokolle sind verschlüsselt. Geben Sie das Geheimnis von Ihrer Abgabequittung ein, um sie hier in Ihrem Browser zu öffnen. Das Geheimnis wird nirgendwohin gesendet – auch die Hochschule erfährt es nicht.",
        "sv": "Dina skärmdumpar, kamerabilder och loggar är krypterade. Ange hemligheten från ditt inlämningskvitto för att öppna dem här i din webbläsare. Hemligheten skickas aldrig någonstans – inte ens lärosätet får veta den.",
    },
    "secret_label": {
        "en": "Receipt secret",
        "da": "Kode fra kvitteringen",
        "de": "Geheimnis von der Quittung",
        "sv": "Hemlighet från kvittot",
    },
    "secret_hint": {
        "en": "52 letters and digits. Spaces, dashes and upper or lower case do not matter.",
        "da": "52 bogstaver og tal. Mellemrum, bindestreger og store eller små bogstaver er underordnet.",
        "de": "52 Buchstaben und Ziffern. Leerzeichen, Bindestriche sowie Groß- und Kleinschreibung spielen keine Rolle.",
        "sv": "52 bokstäver och siffror. Mellanslag, bindestreck och stora eller små bokstäver spelar ingen roll.",
    },
    "open_button": {
        "en": "Open my data",
        "da": "Åbn mine data",
        "de": "Meine Daten öffnen",
        "sv": "Öppna mina uppgifter",
    },
    "close_button": {"en": "Close", "da": "Luk", "de": "Schließen", "sv": "Stäng"},
    # ---- what was recorded --------------------------------------------------------------------------
    "h_recorded": {
        "en": "What was recorded",
        "da": "Hvad blev optaget",
        "de": "Was aufgezeichnet wurde",
        "sv": "Vad som spelades in",
    },
    "recorded_none": {
        "en": "Nothing was recorded about you in this exam.",
        "da": "Der blev ikke optaget noget om dig ved denne eksamen.",
        "de": "In dieser Prüfung wurde nichts über Sie aufgezeichnet.",
        "sv": "Ingenting spelades in om dig vid den här tentamen.",
    },
    "sealed": {
        "en": "Encrypted. Enter your receipt secret above to see it.",
        "da": "Krypteret. Indtast koden fra din kvittering ovenfor for at se det.",
        "de": "Verschlüsselt. Geben Sie oben das Geheimnis von Ihrer Quittung ein, um es zu sehen.",
        "sv": "Krypterad. Ange hemligheten från ditt kvitto ovan för att se den.",
    },
    "item_deleted": {
        "en": "Deleted on {date}.",
        "da": "Slettet den {date}.",
        "de": "Gelöscht am {date}.",
        "sv": "Raderad den {date}.",
    },
    "kind_screenshot": {
        "en": "Screenshots",
        "da": "Skærmbilleder",
        "de": "Bildschirmaufnahmen",
        "sv": "Skärmdumpar",
    },
    "kind_webcam_frame": {
        "en": "Camera pictures",
        "da": "Kamerabilleder",
        "de": "Kamerabilder",
        "sv": "Kamerabilder",
    },
    "kind_webcam_clip": {"en": "Camera clips", "da": "Kameraklip", "de": "Kameraclips", "sv": "Kameraklipp"},
    "kind_room_scan": {
        "en": "Room scan",
        "da": "Rundgang i rummet",
        "de": "Raumschwenk",
        "sv": "Rumssvepning",
    },
    "kind_id_photo": {
        "en": "Photo of your ID",
        "da": "Foto af dit ID-kort",
        "de": "Foto Ihres Ausweises",
        "sv": "Foto av din id-handling",
    },
    "kind_reference_photo": {
        "en": "Reference photo of your face",
        "da": "Referencefoto af dit ansigt",
        "de": "Referenzfoto Ihres Gesichts",
        "sv": "Referensfoto av ditt ansikte",
    },
    "kind_audio_clip": {"en": "Sound clips", "da": "Lydklip", "de": "Tonaufnahmen", "sv": "Ljudklipp"},
    "kind_process_snapshot": {
        "en": "Programs running on your computer",
        "da": "Programmer, der kørte på din computer",
        "de": "Auf Ihrem Computer laufende Programme",
        "sv": "Program som kördes på din dator",
    },
    "kind_browser_history": {
        "en": "Web addresses you visited",
        "da": "Webadresser, du besøgte",
        "de": "Von Ihnen aufgerufene Webadressen",
        "sv": "Webbadresser du besökte",
    },
    "kind_handin_file": {
        "en": "Files you handed in",
        "da": "Filer, du afleverede",
        "de": "Von Ihnen abgegebene Dateien",
        "sv": "Filer du lämnade in",
    },
    "kind_handin_backup": {
        "en": "Backups of your hand-in folder",
        "da": "Sikkerhedskopier af din afleveringsmappe",
        "de": "Sicherungen Ihres Abgabeordners",
        "sv": "Säkerhetskopior av din inlämningsmapp",
    },
    # ---- the course of the exam ---------------------------------------------------------------------
    "h_course": {
        "en": "Your exam, step by step",
        "da": "Din eksamen, trin for trin",
        "de": "Ihre Prüfung, Schritt für Schritt",
        "sv": "Din tentamen, steg för steg",
    },
    "ev_notice": {
        "en": "You accepted the privacy notice (version {version}).",
        "da": "Du accepterede oplysningen om behandling af personoplysninger (version {version}).",
        "de": "Sie haben die Datenschutzhinweise bestätigt (Version {version}).",
        "sv": "Du godkände informationen om behandling av personuppgifter (version {version}).",
    },
    "ev_activated": {
        "en": "You entered your exam code: recording started.",
        "da": "Du indtastede din eksamenskode: optagelsen begyndte.",
        "de": "Sie haben Ihren Prüfungscode eingegeben: Die Aufzeichnung begann.",
        "sv": "Du angav din tentamenskod: inspelningen började.",
    },
    "ev_offline": {
        "en": "Your computer was offline until {end}.",
        "da": "Din computer var offline indtil {end}.",
        "de": "Ihr Computer war bis {end} offline.",
        "sv": "Din dator var offline till {end}.",
    },
    "ev_offline_open": {
        "en": "Your computer went offline.",
        "da": "Din computer gik offline.",
        "de": "Ihr Computer ging offline.",
        "sv": "Din dator gick offline.",
    },
    "ev_handed_in": {
        "en": "You handed in.",
        "da": "Du afleverede.",
        "de": "Sie haben abgegeben.",
        "sv": "Du lämnade in.",
    },
    "ev_closed": {
        "en": "The exam program stopped recording.",
        "da": "Eksamensprogrammet stoppede optagelsen.",
        "de": "Das Prüfungsprogramm hat die Aufzeichnung beendet.",
        "sv": "Tentamensprogrammet slutade spela in.",
    },
    # ---- flags --------------------------------------------------------------------------------------
    "h_flags": {"en": "Flags", "da": "Markeringer", "de": "Markierungen", "sv": "Markeringar"},
    "flags_explain": {
        "en": "A flag is a moment that software marked for a person to look at, such as a second face on the camera or a forbidden program. A flag is not a verdict and does not mean that you did anything wrong: only people decide, and nothing is decided automatically.",
        "da": "En markering er et øjeblik, som software har udpeget, så en person kan se nærmere på det, fx et ekstra ansigt på kameraet eller et forbudt program. En markering er ikke en afgørelse og betyder ikke, at du har gjort noget forkert: kun mennesker træffer afgørelser, og intet afgøres automatisk.",
        "de": "Eine Markierung ist ein Moment, den eine Software hervorgehoben hat, damit ein Mensch ihn sich ansieht – etwa ein zweites Gesicht im Kamerabild oder ein verbotenes Programm. Eine Markierung ist kein Urteil und bedeutet nicht, dass Sie etwas falsch gemacht haben: Nur Menschen entscheiden, und nichts wird automatisch entschieden.",
        "sv": "En markering är ett ögonblick som programvara har pekat ut för att en människa ska titta närmare på det, till exempel ett andra ansikte i kameran eller ett förbjudet program. En markering är inget beslut och betyder inte att du har gjort något fel: bara människor fattar beslut, och inget avgörs automatiskt.",
    },
    "flags_none": {
        "en": "No flags were raised.",
        "da": "Der blev ikke sat nogen markeringer.",
        "de": "Es wurden keine Markierungen gesetzt.",
        "sv": "Inga markeringar gjordes.",
    },
    "col_when": {"en": "When", "da": "Hvornår", "de": "Wann", "sv": "När"},
    "col_what": {"en": "What", "da": "Hvad", "de": "Was", "sv": "Vad"},
    "col_level": {"en": "Level", "da": "Niveau", "de": "Stufe", "sv": "Nivå"},
    "col_by": {"en": "Marked by", "da": "Markeret af", "de": "Markiert von", "sv": "Markerad av"},
    "col_outcome": {"en": "Decision", "da": "Afgørelse", "de": "Entscheidung", "sv": "Beslut"},
    "col_reason": {"en": "Reason given", "da": "Begrundelse", "de": "Begründung", "sv": "Motivering"},
    "col_who": {"en": "Who", "da": "Hvem", "de": "Wer", "sv": "Vem"},
    "col_did": {"en": "What", "da": "Hvad", "de": "Vorgang", "sv": "Vad"},
    "severity_green": {"en": "low", "da": "lav", "de": "niedrig", "sv": "låg"},
    "severity_yellow": {"en": "medium", "da": "middel", "de": "mittel", "sv": "medel"},
    "severity_red": {"en": "high", "da": "høj", "de": "hoch", "sv": "hög"},
    "source_worker": {
        "en": "analysis on the server",
        "da": "analyse på serveren",
        "de": "Auswertung auf dem Server",
        "sv": "analys på servern",
    },
    "source_agent": {
        "en": "the exam program on your computer",
        "da": "eksamensprogrammet på din computer",
        "de": "das Prüfungsprogramm auf Ihrem Computer",
        "sv": "tentamensprogrammet på din dator",
    },
    "b_face.absent": {
        "en": "Nobody visible on the camera",
        "da": "Ingen synlig på kameraet",
        "de": "Niemand im Kamerabild zu sehen",
        "sv": "Ingen syns i kameran",
    },
    "b_face.multiple": {
        "en": "More than one face on the camera",
        "da": "Mere end ét ansigt på kameraet",
        "de": "Mehr als ein Gesicht im Kamerabild",
        "sv": "Mer än ett ansikte i kameran",
    },
    "b_head.away": {
        "en": "Head turned away from the screen",
        "da": "Hovedet vendt væk fra skærmen",
        "de": "Kopf vom Bildschirm abgewandt",
        "sv": "Huvudet vänt bort från skärmen",
    },
    "b_gaze.away": {
        "en": "Eyes looking away from the screen",
        "da": "Blikket rettet væk fra skærmen",
        "de": "Blick vom Bildschirm abgewandt",
        "sv": "Blicken riktad bort från skärmen",
    },
    "b_face.mismatch": {
        "en": "Face differs from the reference photo",
        "da": "Ansigtet afviger fra referencefotoet",
        "de": "Gesicht weicht vom Referenzfoto ab",
        "sv": "Ansiktet skiljer sig från referensfotot",
    },
    "b_voice.speech": {
        "en": "Speech near the computer",
        "da": "Tale ved computeren",
        "de": "Sprache in der Nähe des Computers",
        "sv": "Tal nära datorn",
    },
    "b_process.forbidden": {
        "en": "A forbidden program was running",
        "da": "Et forbudt program kørte",
        "de": "Ein verbotenes Programm lief",
        "sv": "Ett förbjudet program kördes",
    },
    "b_browser.outside_allowed": {
        "en": "A website outside the allowed sites",
        "da": "Et websted uden for de tilladte",
        "de": "Eine Website außerhalb der erlaubten Seiten",
        "sv": "En webbplats utanför de tillåtna",
    },
    "b_storage.removable": {
        "en": "A USB stick or other storage was plugged in",
        "da": "En USB-nøgle eller andet lager blev sat i",
        "de": "Ein USB-Stick oder anderer Speicher wurde eingesteckt",
        "sv": "Ett USB-minne eller annan lagring anslöts",
    },
    "b_focus.left": {
        "en": "The exam window lost focus",
        "da": "Eksamensvinduet mistede fokus",
        "de": "Das Prüfungsfenster verlor den Fokus",
        "sv": "Tentamensfönstret tappade fokus",
    },
    "b_network.offline": {
        "en": "The computer was offline",
        "da": "Computeren var offline",
        "de": "Der Computer war offline",
        "sv": "Datorn var offline",
    },
    "b_activity.idle": {
        "en": "No keyboard or mouse activity for a while",
        "da": "Ingen aktivitet på tastatur eller mus i et stykke tid",
        "de": "Eine Zeit lang keine Tastatur- oder Mausaktivität",
        "sv": "Ingen aktivitet på tangentbord eller mus på ett tag",
    },
    "b_display.extra_monitor": {
        "en": "More than one monitor connected",
        "da": "Mere end én skærm tilsluttet",
        "de": "Mehr als ein Bildschirm angeschlossen",
        "sv": "Mer än en bildskärm ansluten",
    },
    "b_environment.virtual_machine": {
        "en": "Signs of a virtual machine",
        "da": "Tegn på en virtuel maskine",
        "de": "Hinweise auf eine virtuelle Maschine",
        "sv": "Tecken på en virtuell maskin",
    },
    "b_environment.remote_desktop": {
        "en": "Signs of remote-desktop or screen-sharing software",
        "da": "Tegn på fjernskrivebord eller skærmdeling",
        "de": "Hinweise auf Fernzugriffs- oder Bildschirmfreigabe-Software",
        "sv": "Tecken på fjärrskrivbord eller skärmdelning",
    },
    "b_handin.near_duplicate": {
        "en": "Hand-in nearly identical to another candidate's",
        "da": "Afleveringen ligner en anden eksaminands næsten helt",
        "de": "Abgabe nahezu identisch mit der einer anderen Person",
        "sv": "Inlämningen nästan identisk med en annan students",
    },
    # ---- decisions ----------------------------------------------------------------------------------
    "h_decisions": {"en": "Decisions", "da": "Afgørelser", "de": "Entscheidungen", "sv": "Beslut"},
    "decisions_explain": {
        "en": "What the reviewers of this exam decided after looking at the flags and recordings.",
        "da": "Hvad bedømmerne ved denne eksamen har besluttet efter at have set markeringerne og optagelserne.",
        "de": "Was die mit der Auswertung betrauten Personen nach Durchsicht der Markierungen und Aufzeichnungen entschieden haben.",
        "sv": "Vad granskarna för den här tentamen beslutade efter att ha gått igenom markeringarna och inspelningarna.",
    },
    "decisions_none": {
        "en": "No decisions have been recorded.",
        "da": "Der er ikke registreret nogen afgørelser.",
        "de": "Es wurden keine Entscheidungen erfasst.",
        "sv": "Inga beslut har registrerats.",
    },
    "outcome_no_action": {
        "en": "No action: nothing to pursue",
        "da": "Ingen handling: intet at forfølge",
        "de": "Keine Maßnahme: nichts weiter zu veranlassen",
        "sv": "Ingen åtgärd: inget att gå vidare med",
    },
    "outcome_follow_up": {
        "en": "Follow-up: someone will look again or contact you",
        "da": "Opfølgning: nogen ser på det igen eller kontakter dig",
        "de": "Nachprüfung: Jemand sieht es sich erneut an oder meldet sich bei Ihnen",
        "sv": "Uppföljning: någon tittar på det igen eller kontaktar dig",
    },
    "outcome_report": {
        "en": "Referred to the exam board (suspected misconduct)",
        "da": "Indberettet til eksamensnævnet (mistanke om eksamenssnyd)",
        "de": "An den Prüfungsausschuss weitergeleitet (Täuschungsverdacht)",
        "sv": "Överlämnat till disciplinnämnden (misstanke om fusk)",
    },
    # ---- who opened it ------------------------------------------------------------------------------
    "h_access": {
        "en": "Who opened your data and when",
        "da": "Hvem har åbnet dine data og hvornår",
        "de": "Wer Ihre Daten wann geöffnet hat",
        "sv": "Vem som har öppnat dina uppgifter och när",
    },
    "access_explain": {
        "en": "Every look at your data is logged. Staff are shown by their role and a short reference, not by name; the data protection officer can tell you who it was.",
        "da": "Hver gang nogen ser dine data, logges det. Medarbejdere vises med deres rolle og en kort reference, ikke med navn; databeskyttelsesrådgiveren kan fortælle dig, hvem det var.",
        "de": "Jeder Zugriff auf Ihre Daten wird protokolliert. Beschäftigte werden mit ihrer Rolle und einem kurzen Kürzel angezeigt, nicht mit Namen; die oder der Datenschutzbeauftragte kann Ihnen sagen, wer es war.",
        "sv": "Varje gång någon tittar på dina uppgifter loggas det. Personal visas med sin roll och en kort referens, inte med namn; dataskyddsombudet kan berätta vem det var.",
    },
    "access_none": {
        "en": "Nobody has opened your data.",
        "da": "Ingen har åbnet dine data.",
        "de": "Niemand hat Ihre Daten geöffnet.",
        "sv": "Ingen har öppnat dina uppgifter.",
    },
    "who_you": {"en": "You", "da": "Du selv", "de": "Sie selbst", "sv": "Du själv"},
    "who_admin": {
        "en": "Administrator",
        "da": "Administrator",
        "de": "Administration",
        "sv": "Administratör",
    },
    "who_coordinator": {
        "en": "Exam coordinator",
        "da": "Eksamenskoordinator",
        "de": "Prüfungskoordination",
        "sv": "Tentamenssamordnare",
    },
    "who_invigilator": {
        "en": "Invigilator",
        "da": "Eksamensvagt",
        "de": "Aufsichtsperson",
        "sv": "Tentamensvakt",
    },
    "who_reviewer": {
        "en": "Reviewer",
        "da": "Bedømmer af optagelser",
        "de": "Auswertende Person",
        "sv": "Granskare",
    },
    "who_examiner": {"en": "Examiner", "da": "Eksaminator", "de": "Prüfende Person", "sv": "Examinator"},
    "who_worker": {
        "en": "Automatic analysis",
        "da": "Automatisk analyse",
        "de": "Automatische Auswertung",
        "sv": "Automatisk analys",
    },
    "who_system": {"en": "The system", "da": "Systemet", "de": "Das System", "sv": "Systemet"},
    "who_staff": {"en": "Staff member", "da": "Medarbejder", "de": "Beschäftigte Person", "sv": "Personal"},
    "who_ref": {"en": "ref. {ref}", "da": "ref. {ref}", "de": "Kürzel {ref}", "sv": "ref. {ref}"},
    "act_evidence.read": {
        "en": "opened a recording",
        "da": "åbnede en optagelse",
        "de": "Aufzeichnung geöffnet",
        "sv": "öppnade en inspelning",
    },
    "act_evidence.list": {
        "en": "looked at the list of recordings",
        "da": "så listen over optagelser",
        "de": "Liste der Aufzeichnungen angesehen",
        "sv": "tittade på listan över inspelningar",
    },
    "act_evidence.analyse": {
        "en": "analysed the recordings",
        "da": "analyserede optagelserne",
        "de": "Aufzeichnungen ausgewertet",
        "sv": "analyserade inspelningarna",
    },
    "act_evidence.export": {
        "en": "exported the recordings",
        "da": "eksporterede optagelserne",
        "de": "Aufzeichnungen exportiert",
        "sv": "exporterade inspelningarna",
    },
    "act_timeline.read": {
        "en": "looked at the course of your exam",
        "da": "så forløbet af din eksamen",
        "de": "Verlauf Ihrer Prüfung angesehen",
        "sv": "tittade på förloppet av din tentamen",
    },
    "act_flags.read": {
        "en": "looked at the flags",
        "da": "så markeringerne",
        "de": "Markierungen angesehen",
        "sv": "tittade på markeringarna",
    },
    "act_decisions.read": {
        "en": "looked at the decisions",
        "da": "så afgørelserne",
        "de": "Entscheidungen angesehen",
        "sv": "tittade på besluten",
    },
    "act_evidence.erase": {
        "en": "deleted a recording",
        "da": "slettede en optagelse",
        "de": "Aufzeichnung gelöscht",
        "sv": "raderade en inspelning",
    },
    "act_portal.read": {
        "en": "opened a recording on this page",
        "da": "åbnede en optagelse på denne side",
        "de": "Aufzeichnung auf dieser Seite geöffnet",
        "sv": "öppnade en inspelning på den här sidan",
    },
    "act_portal.list": {
        "en": "opened this page",
        "da": "åbnede denne side",
        "de": "diese Seite geöffnet",
        "sv": "öppnade den här sidan",
    },
    "act_portal.export": {
        "en": "downloaded the copy (ZIP)",
        "da": "hentede kopien (ZIP)",
        "de": "Kopie (ZIP) heruntergeladen",
        "sv": "laddade ner kopian (ZIP)",
    },
    "act_other": {
        "en": "used your data",
        "da": "brugte dine data",
        "de": "auf Ihre Daten zugegriffen",
        "sv": "använde dina uppgifter",
    },
    # ---- privacy notice -----------------------------------------------------------------------------
    "h_notice": {
        "en": "Privacy notice",
        "da": "Oplysning om behandling af personoplysninger",
        "de": "Datenschutzhinweise",
        "sv": "Information om behandling av personuppgifter",
    },
    "notice_accepted": {
        "en": "You accepted version {version} of this notice on {date}.",
        "da": "Du accepterede version {version} af denne oplysning den {date}.",
        "de": "Sie haben Version {version} dieser Hinweise am {date} bestätigt.",
        "sv": "Du godkände version {version} av den här informationen den {date}.",
    },
    "notice_not_accepted": {
        "en": "No acceptance of the notice is recorded for you.",
        "da": "Der er ikke registreret, at du har accepteret oplysningen.",
        "de": "Für Sie ist keine Bestätigung der Hinweise erfasst.",
        "sv": "Det finns inget registrerat godkännande av informationen från dig.",
    },
    "notice_changed": {
        "en": "The notice has changed since then; this is the current version ({version}).",
        "da": "Oplysningen er ændret siden da; dette er den gældende version ({version}).",
        "de": "Die Hinweise wurden seitdem geändert; dies ist die aktuelle Fassung ({version}).",
        "sv": "Informationen har ändrats sedan dess; detta är den aktuella versionen ({version}).",
    },
    "notice_show": {
        "en": "Read the privacy notice of this exam",
        "da": "Læs oplysningen for denne eksamen",
        "de": "Datenschutzhinweise dieser Prüfung lesen",
        "sv": "Läs informationen för den här tentamen",
    },
    # ---- the copy -----------------------------------------------------------------------------------
    "h_download": {
        "en": "Download a copy of everything",
        "da": "Hent en kopi af det hele",
        "de": "Eine Kopie von allem herunterladen",
        "sv": "Ladda ner en kopia av allt",
    },
    "download_text": {
        "en": "Your right of access (GDPR Article 15): a ZIP file with everything on this page, every recording that is still stored (encrypted), and a page that opens them.",
        "da": "Din ret til indsigt (databeskyttelsesforordningens artikel 15): en ZIP-fil med alt på denne side, alle optagelser, der stadig opbevares (krypteret), og en side, der åbner dem.",
        "de": "Ihr Auskunftsrecht (Art. 15 DSGVO): eine ZIP-Datei mit allem auf dieser Seite, allen noch gespeicherten Aufzeichnungen (verschlüsselt) und einer Seite, die sie öffnet.",
        "sv": "Din rätt till tillgång (artikel 15 i dataskyddsförordningen): en ZIP-fil med allt på den här sidan, alla inspelningar som fortfarande lagras (krypterade) och en sida som öppnar dem.",
    },
    "download_how": {
        "en": "To open it, unzip the file, open open.html in your browser, choose the unzipped folder and enter your receipt secret. It works offline, and nothing is sent anywhere.",
        "da": "Sådan åbner du den: pak filen ud, åbn open.html i din browser, vælg den udpakkede mappe, og indtast koden fra din kvittering. Det virker offline, og intet sendes nogen steder hen.",
        "de": "So öffnen Sie sie: Entpacken Sie die Datei, öffnen Sie open.html in Ihrem Browser, wählen Sie den entpackten Ordner und geben Sie das Geheimnis von Ihrer Quittung ein. Das funktioniert offline, und nichts wird gesendet.",
        "sv": "Så här öppnar du den: packa upp filen, öppna open.html i din webbläsare, välj den uppackade mappen och ange hemligheten från ditt kvitto. Det fungerar offline, och ingenting skickas någonstans.",
    },
    "download_link": {
        "en": "Download my data (ZIP)",
        "da": "Hent mine data (ZIP)",
        "de": "Meine Daten herunterladen (ZIP)",
        "sv": "Ladda ner mina uppgifter (ZIP)",
    },
    # ---- the receipt --------------------------------------------------------------------------------
    "h_receipt": {
        "en": "Your hand-in receipt",
        "da": "Din afleveringskvittering",
        "de": "Ihre Abgabequittung",
        "sv": "Ditt inlämningskvitto",
    },
    "receipt_files": {
        "en": "Files handed in, by their fingerprint (SHA-256):",
        "da": "Afleverede filer med deres fingeraftryk (SHA-256):",
        "de": "Abgegebene Dateien mit ihrem Fingerabdruck (SHA-256):",
        "sv": "Inlämnade filer med sina fingeravtryck (SHA-256):",
    },
    "bytes": {"en": "{n} bytes", "da": "{n} byte", "de": "{n} Byte", "sv": "{n} byte"},
    "evidence_received": {
        "en": "Recordings received when you handed in: {n}.",
        "da": "Optagelser modtaget, da du afleverede: {n}.",
        "de": "Bei der Abgabe eingegangene Aufzeichnungen: {n}.",
        "sv": "Inspelningar som hade tagits emot när du lämnade in: {n}.",
    },
    # ---- the script (portal.js) ---------------------------------------------------------------------
    "js_opening": {"en": "Opening…", "da": "Åbner …", "de": "Wird geöffnet …", "sv": "Öppnar …"},
    "js_opened": {
        "en": "Opened {n} of {total} item(s) in this browser. Nothing was decrypted on the server.",
        "da": "{n} af {total} element(er) er åbnet i denne browser. Intet blev dekrypteret på serveren.",
        "de": "{n} von {total} Element(en) in diesem Browser geöffnet. Auf dem Server wurde nichts entschlüsselt.",
        "sv": "{n} av {total} objekt har öppnats i den här webbläsaren. Ingenting dekrypterades på servern.",
    },
    "js_closed": {
        "en": "Closed. Your recordings are hidden again.",
        "da": "Lukket. Dine optagelser er skjult igen.",
        "de": "Geschlossen. Ihre Aufzeichnungen sind wieder verborgen.",
        "sv": "Stängd. Dina inspelningar är dolda igen.",
    },
    "js_idle": {
        "en": "Closed after a while without use. Enter your secret again to see your recordings.",
        "da": "Lukket efter et stykke tid uden brug. Indtast koden igen for at se dine optagelser.",
        "de": "Nach einer Weile ohne Nutzung geschlossen. Geben Sie das Geheimnis erneut ein, um Ihre Aufzeichnungen zu sehen.",
        "sv": "Stängd efter en stund utan användning. Ange hemligheten igen för att se dina inspelningar.",
    },
    "js_another_receipt": {
        "en": "This secret belongs to another receipt.",
        "da": "Denne kode hører til en anden kvittering.",
        "de": "Dieses Geheimnis gehört zu einer anderen Quittung.",
        "sv": "Den här hemligheten hör till ett annat kvitto.",
    },
    "js_typo": {
        "en": "The receipt secret has a typo: please compare it with your receipt again.",
        "da": "Der er en tastefejl i koden: sammenlign den venligst med din kvittering igen.",
        "de": "Das Geheimnis enthält einen Tippfehler: Bitte vergleichen Sie es noch einmal mit Ihrer Quittung.",
        "sv": "Hemligheten innehåller ett skrivfel: jämför den med ditt kvitto en gång till.",
    },
    "js_length": {
        "en": "A receipt secret has 52 letters and digits; this one has {n}.",
        "da": "En kode fra kvitteringen har 52 bogstaver og tal; denne har {n}.",
        "de": "Ein Geheimnis von der Quittung hat 52 Buchstaben und Ziffern; dieses hat {n}.",
        "sv": "En hemlighet från kvittot har 52 bokstäver och siffror; den här har {n}.",
    },
    "js_bad_chars": {
        "en": "A receipt secret never contains {chars}.",
        "da": "En kode fra kvitteringen indeholder aldrig {chars}.",
        "de": "Ein Geheimnis von der Quittung enthält niemals {chars}.",
        "sv": "En hemlighet från kvittot innehåller aldrig {chars}.",
    },
    "js_not_secret": {
        "en": "That is not a receipt secret.",
        "da": "Det er ikke en kode fra kvitteringen.",
        "de": "Das ist kein Geheimnis von der Quittung.",
        "sv": "Det är ingen hemlighet från kvittot.",
    },
    "js_failed": {
        "en": "Your data could not be opened: {error}",
        "da": "Dine data kunne ikke åbnes: {error}",
        "de": "Ihre Daten konnten nicht geöffnet werden: {error}",
        "sv": "Dina uppgifter kunde inte öppnas: {error}",
    },
    "js_item_failed": {
        "en": "This item could not be opened.",
        "da": "Dette element kunne ikke åbnes.",
        "de": "Dieses Element konnte nicht geöffnet werden.",
        "sv": "Det här objektet kunde inte öppnas.",
    },
    "js_alt_screenshot": {
        "en": "Your screen at {time}",
        "da": "Din skærm {time}",
        "de": "Ihr Bildschirm am {time}",
        "sv": "Din skärm {time}",
    },
    "js_alt_camera": {
        "en": "Your camera's picture at {time}",
        "da": "Billede fra dit kamera {time}",
        "de": "Bild Ihrer Kamera am {time}",
        "sv": "Bild från din kamera {time}",
    },
    "js_alt_photo": {
        "en": "Photo taken at {time}",
        "da": "Foto taget {time}",
        "de": "Foto, aufgenommen am {time}",
        "sv": "Foto taget {time}",
    },
    "js_programs": {
        "en": "Programs running at {time}: {n}",
        "da": "Programmer, der kørte {time}: {n}",
        "de": "Am {time} laufende Programme: {n}",
        "sv": "Program som kördes {time}: {n}",
    },
    "js_col_program": {"en": "Program", "da": "Program", "de": "Programm", "sv": "Program"},
    "js_col_pid": {
        "en": "Process number",
        "da": "Procesnummer",
        "de": "Prozessnummer",
        "sv": "Processnummer",
    },
    "js_col_cpu": {
        "en": "Processor use (%)",
        "da": "Processorforbrug (%)",
        "de": "Prozessorlast (%)",
        "sv": "Processoranvändning (%)",
    },
    "js_col_path": {"en": "Location", "da": "Placering", "de": "Speicherort", "sv": "Plats"},
    "js_visits": {
        "en": "Web addresses recorded up to {time}: {n}",
        "da": "Webadresser registreret frem til {time}: {n}",
        "de": "Bis {time} erfasste Webadressen: {n}",
        "sv": "Webbadresser registrerade fram till {time}: {n}",
    },
    "js_col_visited": {"en": "Visited", "da": "Besøgt", "de": "Aufgerufen", "sv": "Besökt"},
    "js_col_page": {"en": "Page title", "da": "Sidens titel", "de": "Seitentitel", "sv": "Sidans titel"},
    "js_col_address": {"en": "Address", "da": "Adresse", "de": "Adresse", "sv": "Adress"},
    "js_none_recorded": {
        "en": "Nothing in this record.",
        "da": "Intet i denne registrering.",
        "de": "Dieser Eintrag ist leer.",
        "sv": "Ingenting i den här registreringen.",
    },
    "js_save": {"en": "Save the file", "da": "Gem filen", "de": "Datei speichern", "sv": "Spara filen"},
    "js_text_preview": {
        "en": "Text of the file:",
        "da": "Filens tekst:",
        "de": "Text der Datei:",
        "sv": "Filens text:",
    },
    # ---- the offline opener in the ZIP (web/static/export-opener.html) -------------------------------
    "opener_title": {
        "en": "Open your exam data",
        "da": "Åbn dine eksamensdata",
        "de": "Ihre Prüfungsdaten öffnen",
        "sv": "Öppna dina tentamensuppgifter",
    },
    "opener_intro": {
        "en": "Unzip the file first. Then choose the unzipped folder and enter the secret from your hand-in receipt. Everything happens in this browser; nothing is sent anywhere.",
        "da": "Pak først filen ud. Vælg derefter den udpakkede mappe, og indtast koden fra din afleveringskvittering. Alt foregår i denne browser; intet sendes nogen steder hen.",
        "de": "Entpacken Sie zuerst die Datei. Wählen Sie dann den entpackten Ordner und geben Sie das Geheimnis von Ihrer Abgabequittung ein. Alles geschieht in diesem Browser; nichts wird gesendet.",
        "sv": "Packa först upp filen. Välj sedan den uppackade mappen och ange hemligheten från ditt inlämningskvitto. Allt sker i den här webbläsaren; ingenting skickas någonstans.",
    },
    "opener_folder": {"en": "Folder", "da": "Mappe", "de": "Ordner", "sv": "Mapp"},
    "opener_open": {"en": "Open", "da": "Åbn", "de": "Öffnen", "sv": "Öppna"},
    "opener_choose_folder": {
        "en": "Choose the unzipped folder (it holds report.json).",
        "da": "Vælg den udpakkede mappe (den indeholder report.json).",
        "de": "Wählen Sie den entpackten Ordner (er enthält report.json).",
        "sv": "Välj den uppackade mappen (den innehåller report.json).",
    },
    "opener_opened": {
        "en": "Opened {n} item(s). Flags, decisions and who looked at your data are in report.json.",
        "da": "{n} element(er) er åbnet. Markeringer, afgørelser og hvem der har set dine data, står i report.json.",
        "de": "{n} Element(e) geöffnet. Markierungen, Entscheidungen und wer Ihre Daten angesehen hat, stehen in report.json.",
        "sv": "{n} objekt har öppnats. Markeringar, beslut och vem som har tittat på dina uppgifter finns i report.json.",
    },
    "opener_captured": {
        "en": "recorded {time}",
        "da": "optaget {time}",
        "de": "aufgezeichnet {time}",
        "sv": "inspelad {time}",
    },
    "opener_deleted": {
        "en": "deleted {time}",
        "da": "slettet {time}",
        "de": "gelöscht {time}",
        "sv": "raderad {time}",
    },
}

# The messages portal.js needs, handed to it by the page; and those of the offline opener.
JS = tuple(k for k in M if k.startswith("js_")) + tuple(
    k for k in M if k.startswith(("kind_", "sealed", "item_deleted"))
)

OPENER = (
    *(k for k in M if k.startswith("opener_")),
    "secret_label",
    "js_another_receipt",
    "js_typo",
    "js_length",
    "js_bad_chars",
    "js_not_secret",
    "js_failed",
)
OPENER_KINDS = tuple(k for k in M if k.startswith("kind_"))


def language_of(query: str | None, accept_language: str | None) -> str:
    """``?lang=`` when it names one of ours, else the browser's Accept-Language, else English."""
    if query and query.lower() in LANGUAGES:
        return query.lower()
    return language(accept_language)


def strings(lang: str) -> dict[str, str]:
    """Every message in one language (English where a language lacks one; a test keeps that empty)."""
    return {key: texts.get(lang) or texts["en"] for key, texts in M.items()}


def script_strings(lang: str) -> dict[str, str]:
    all_ = strings(lang)
    return {key: all_[key] for key in JS}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
