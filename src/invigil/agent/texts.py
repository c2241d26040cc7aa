# ruff: noqa: E501 - prose in four languages: sentences are easier to translate and review unbroken
"""Every word the candidate's program shows (the window, window.py, and the terminal, headless.py; the
headings, checks and receipt of screens.py, checks.py and program.py) in English, Danish, German and
Swedish, in one table.

One message, its four languages side by side, as in the student portal (portal/texts.py,
docs/adr/0018-candidate-translations.md): a reviewer reads a sentence and its translations together,
and tests/unit/agent/test_texts.py checks that each message has all four languages with the same
placeholders, that every key the program uses is here and that none is unused.

The language is the privacy notice's (``Options.language``: ``--language`` or this computer's,
English otherwise). Vocabulary as in privacy/texts.py and portal/texts.py, so that the receipt's words
match the portal's: afleveringsmappe / Abgabeordner / inlämningsmapp for the hand-in folder;
afleveringskvittering / Abgabequittung / inlämningskvitto for the receipt and kode / Geheimnis /
hemlighet for its secret. What the server says (a refused code, for instance) is shown as it sends it.
"""

from __future__ import annotations

import string

from invigil.privacy.notice import language
from invigil.privacy.texts import LANGUAGES

M: dict[str, dict[str, str]] = {
    # ---- frame -------------------------------------------------------------------------------------
    "sample_label": {
        "en": "sample sources (test mode)",
        "da": "eksempelkilder (testtilstand)",
        "de": "Beispielquellen (Testmodus)",
        "sv": "exempelkällor (testläge)",
    },
    "indicator_title": {
        "en": "Invigil is recording",
        "da": "Invigil optager",
        "de": "Invigil zeichnet auf",
        "sv": "Invigil spelar in",
    },
    "recording_line": {
        "en": "Recording: {what}",
        "da": "Optager: {what}",
        "de": "Aufzeichnung: {what}",
        "sv": "Spelar in: {what}",
    },
    "close_title": {
        "en": "Close Invigil?",
        "da": "Luk Invigil?",
        "de": "Invigil schließen?",
        "sv": "Stänga Invigil?",
    },
    "close_question": {
        "en": "Invigil is recording your exam. If you close it now, recording stops until you start Invigil again, and nothing is handed in.\n\nClose anyway?",
        "da": "Invigil optager din eksamen. Hvis du lukker programmet nu, stopper optagelsen, indtil du starter Invigil igen, og intet bliver afleveret.\n\nVil du lukke alligevel?",
        "de": "Invigil zeichnet Ihre Prüfung auf. Wenn Sie das Programm jetzt schließen, endet die Aufzeichnung, bis Sie Invigil wieder starten, und nichts wird abgegeben.\n\nTrotzdem schließen?",
        "sv": "Invigil spelar in din tentamen. Om du stänger programmet nu stoppas inspelningen tills du startar Invigil igen, och ingenting lämnas in.\n\nVill du stänga ändå?",
    },
    "no_display": {
        "en": "There is no screen to open a window on ({why}).",
        "da": "Der er ingen skærm at åbne et vindue på ({why}).",
        "de": "Es gibt keinen Bildschirm, auf dem ein Fenster geöffnet werden kann ({why}).",
        "sv": "Det finns ingen skärm att öppna ett fönster på ({why}).",
    },
    "use_headless": {
        "en": "Run `invigil agent --headless` instead.",
        "da": "Kør `invigil agent --headless` i stedet.",
        "de": "Starten Sie stattdessen `invigil agent --headless`.",
        "sv": "Kör `invigil agent --headless` i stället.",
    },
    "no_capture_libraries": {
        "en": 'The capture libraries are missing ({why}): install the agent with `pip install "invigil[agent]"`, or run with --sample-sources to try the program.',
        "da": 'Optagelsesbibliotekerne mangler ({why}): installér programmet med `pip install "invigil[agent]"`, eller kør det med --sample-sources for at prøve det.',
        "de": 'Die Aufnahmebibliotheken fehlen ({why}): Installieren Sie das Programm mit `pip install "invigil[agent]"` oder starten Sie es mit --sample-sources, um es auszuprobieren.',
        "sv": 'Inspelningsbiblioteken saknas ({why}): installera programmet med `pip install "invigil[agent]"`, eller kör det med --sample-sources för att prova det.',
    },
    # ---- what is recorded (the indicator) ------------------------------------------------------------
    "rec_screen": {"en": "screen", "da": "skærm", "de": "Bildschirm", "sv": "skärm"},
    "rec_webcam": {"en": "webcam", "da": "webkamera", "de": "Webcam", "sv": "webbkamera"},
    "rec_microphone": {"en": "microphone", "da": "mikrofon", "de": "Mikrofon", "sv": "mikrofon"},
    "rec_processes": {
        "en": "running programs",
        "da": "kørende programmer",
        "de": "laufende Programme",
        "sv": "program som körs",
    },
    "rec_browser_history": {
        "en": "browser history",
        "da": "browserhistorik",
        "de": "Browserverlauf",
        "sv": "webbläsarhistorik",
    },
    "rec_handin_folder": {
        "en": "hand-in folder",
        "da": "afleveringsmappe",
        "de": "Abgabeordner",
        "sv": "inlämningsmapp",
    },
    # ---- headings ----------------------------------------------------------------------------------
    "heading_connect": {
        "en": "Start your exam",
        "da": "Start din eksamen",
        "de": "Prüfung beginnen",
        "sv": "Starta din tentamen",
    },
    "heading_connecting": {
        "en": "Connecting",
        "da": "Forbinder",
        "de": "Verbindung wird hergestellt",
        "sv": "Ansluter",
    },
    "heading_notice": {
        "en": "Before anything is recorded",
        "da": "Før noget bliver optaget",
        "de": "Bevor etwas aufgezeichnet wird",
        "sv": "Innan något spelas in",
    },
    "heading_declined": {
        "en": "Nothing was recorded",
        "da": "Intet blev optaget",
        "de": "Nichts wurde aufgezeichnet",
        "sv": "Ingenting spelades in",
    },
    "heading_checks": {
        "en": "Checking your computer",
        "da": "Din computer bliver tjekket",
        "de": "Ihr Computer wird geprüft",
        "sv": "Din dator kontrolleras",
    },
    "heading_id_photo": {
        "en": "Photo of your ID card",
        "da": "Foto af dit id-kort",
        "de": "Foto Ihres Ausweises",
        "sv": "Foto av din id-handling",
    },
    "heading_room_scan": {
        "en": "Room scan",
        "da": "Scanning af rummet",
        "de": "Raumscan",
        "sv": "Skanning av rummet",
    },
    "heading_pin": {
        "en": "Open the assignment",
        "da": "Åbn opgaven",
        "de": "Aufgabe öffnen",
        "sv": "Öppna uppgiften",
    },
    "heading_recording": {
        "en": "Your exam is running",
        "da": "Din eksamen er i gang",
        "de": "Ihre Prüfung läuft",
        "sv": "Din tentamen pågår",
    },
    "heading_confirm_handin": {"en": "Hand in", "da": "Aflever", "de": "Abgeben", "sv": "Lämna in"},
    "heading_handing_in": {"en": "Handing in", "da": "Afleverer", "de": "Wird abgegeben", "sv": "Lämnar in"},
    "heading_handed_in": {"en": "Handed in", "da": "Afleveret", "de": "Abgegeben", "sv": "Inlämnat"},
    "heading_stopped": {
        "en": "Recording has stopped",
        "da": "Optagelsen er stoppet",
        "de": "Die Aufzeichnung ist beendet",
        "sv": "Inspelningen har stoppats",
    },
    "heading_failed": {
        "en": "Recording has stopped",
        "da": "Optagelsen er stoppet",
        "de": "Die Aufzeichnung ist beendet",
        "sv": "Inspelningen har stoppats",
    },
    # ---- what the candidate does now -----------------------------------------------------------------
    "instruction_connect": {
        "en": "Type the server address and your personal activation code from your exam letter.",
        "da": "Skriv serveradressen og din personlige aktiveringskode fra dit eksamensbrev.",
        "de": "Geben Sie die Serveradresse und Ihren persönlichen Aktivierungscode aus Ihrem Prüfungsschreiben ein.",
        "sv": "Skriv serveradressen och din personliga aktiveringskod från ditt tentamensbrev.",
    },
    "instruction_notice": {
        "en": "Please read what will be recorded and why. Nothing is recorded unless you accept.",
        "da": "Læs venligst, hvad der bliver optaget og hvorfor. Intet bliver optaget, medmindre du accepterer.",
        "de": "Bitte lesen Sie, was aufgezeichnet wird und warum. Es wird nichts aufgezeichnet, solange Sie nicht zustimmen.",
        "sv": "Läs vad som kommer att spelas in och varför. Ingenting spelas in om du inte godkänner.",
    },
    "instruction_checks": {
        "en": "Invigil tries your camera, microphone and screen once. Nothing from this check is kept.",
        "da": "Invigil afprøver dit kamera, din mikrofon og din skærm én gang. Intet fra dette tjek bliver gemt.",
        "de": "Invigil testet einmal Ihre Kamera, Ihr Mikrofon und Ihren Bildschirm. Von diesem Test wird nichts gespeichert.",
        "sv": "Invigil provar din kamera, mikrofon och skärm en gång. Ingenting från kontrollen sparas.",
    },
    "instruction_id_photo": {
        "en": "Hold your ID card next to your face, facing the camera, then take the photo. Staff compare it by eye; no biometrics.",
        "da": "Hold dit id-kort ved siden af dit ansigt, vendt mod kameraet, og tag så fotoet. Personalet sammenligner med det blotte øje; der bruges ingen biometri.",
        "de": "Halten Sie Ihren Ausweis neben Ihr Gesicht, zur Kamera gewandt, und nehmen Sie dann das Foto auf. Das Personal vergleicht mit bloßem Auge; es wird keine Biometrie verwendet.",
        "sv": "Håll din id-handling bredvid ansiktet, vänd mot kameran, och ta sedan fotot. Personalen jämför med blotta ögat; ingen biometri används.",
    },
    "instruction_room_scan": {
        "en": "Press Start, then turn your camera (or laptop) slowly once around the room.",
        "da": "Tryk på Start, og drej så dit kamera (eller din bærbare) langsomt én gang rundt i rummet.",
        "de": "Drücken Sie auf „Raumscan starten“ und drehen Sie dann Ihre Kamera (oder Ihren Laptop) langsam einmal durch den Raum.",
        "sv": "Tryck på Starta och vrid sedan kameran (eller den bärbara datorn) långsamt ett varv runt rummet.",
    },
    "instruction_pin": {
        "en": "Type the PIN the invigilator announces in the room.",
        "da": "Skriv den pinkode, som eksamensvagten siger højt i lokalet.",
        "de": "Geben Sie die PIN ein, die die Aufsicht im Raum bekannt gibt.",
        "sv": "Skriv pinkoden som tentamensvakten läser upp i salen.",
    },
    "instruction_recording": {
        "en": "Work on your exam. Save your answers in your hand-in folder, and hand in when you are done. If you do not hand in, the folder is handed in when the exam ends.",
        "da": "Arbejd på din eksamen. Gem dine besvarelser i din afleveringsmappe, og aflever, når du er færdig. Hvis du ikke afleverer, bliver mappen afleveret, når eksamen slutter.",
        "de": "Arbeiten Sie an Ihrer Prüfung. Speichern Sie Ihre Antworten in Ihrem Abgabeordner und geben Sie ab, wenn Sie fertig sind. Wenn Sie nicht abgeben, wird der Ordner am Ende der Prüfung abgegeben.",
        "sv": "Arbeta med din tentamen. Spara dina svar i din inlämningsmapp och lämna in när du är klar. Om du inte lämnar in, lämnas mappen in när tentamen slutar.",
    },
    "instruction_confirm_handin": {
        "en": "Check the list of files, then hand in.",
        "da": "Tjek listen over filer, og aflever så.",
        "de": "Prüfen Sie die Liste der Dateien und geben Sie dann ab.",
        "sv": "Kontrollera listan över filer och lämna sedan in.",
    },
    "instruction_handed_in": {
        "en": "Recording goes on for a short while after the hand-in, then stops by itself.",
        "da": "Optagelsen fortsætter et kort stykke tid efter afleveringen og stopper så af sig selv.",
        "de": "Die Aufzeichnung läuft nach der Abgabe noch kurz weiter und endet dann von selbst.",
        "sv": "Inspelningen fortsätter en kort stund efter inlämningen och stoppas sedan av sig själv.",
    },
    # ---- the system check ----------------------------------------------------------------------------
    "status_pass": {"en": "OK", "da": "OK", "de": "OK", "sv": "OK"},
    "status_warn": {"en": "Warning", "da": "Advarsel", "de": "Warnung", "sv": "Varning"},
    "status_fail": {"en": "Problem", "da": "Problem", "de": "Problem", "sv": "Problem"},
    "check_camera": {"en": "Camera", "da": "Kamera", "de": "Kamera", "sv": "Kamera"},
    "check_microphone": {"en": "Microphone", "da": "Mikrofon", "de": "Mikrofon", "sv": "Mikrofon"},
    "check_screen": {
        "en": "Screen capture",
        "da": "Skærmoptagelse",
        "de": "Bildschirmaufnahme",
        "sv": "Skärminspelning",
    },
    "check_disk": {
        "en": "Free disk space",
        "da": "Ledig diskplads",
        "de": "Freier Speicherplatz",
        "sv": "Ledigt diskutrymme",
    },
    "check_clock": {"en": "Clock", "da": "Ur", "de": "Uhr", "sv": "Klocka"},
    "camera_missing": {
        "en": "No camera was found.",
        "da": "Der blev ikke fundet noget kamera.",
        "de": "Es wurde keine Kamera gefunden.",
        "sv": "Ingen kamera hittades.",
    },
    "camera_missing_fix": {
        "en": "Connect a camera, then press Check again.",
        "da": "Tilslut et kamera, og tryk så på Tjek igen.",
        "de": "Schließen Sie eine Kamera an und drücken Sie dann auf Erneut prüfen.",
        "sv": "Anslut en kamera och tryck sedan på Kontrollera igen.",
    },
    "camera_failed": {
        "en": "The camera could not be opened ({why}).",
        "da": "Kameraet kunne ikke åbnes ({why}).",
        "de": "Die Kamera konnte nicht geöffnet werden ({why}).",
        "sv": "Kameran kunde inte öppnas ({why}).",
    },
    "camera_failed_fix": {
        "en": "Close other programs that use the camera (video calls), check that it is connected and allowed in your system's privacy settings, then press Check again.",
        "da": "Luk andre programmer, der bruger kameraet (videoopkald), tjek at det er tilsluttet og tilladt i systemets indstillinger for privatliv, og tryk så på Tjek igen.",
        "de": "Schließen Sie andere Programme, die die Kamera nutzen (Videoanrufe), prüfen Sie, ob sie angeschlossen und in den Datenschutzeinstellungen Ihres Systems erlaubt ist, und drücken Sie dann auf Erneut prüfen.",
        "sv": "Stäng andra program som använder kameran (videosamtal), kontrollera att den är ansluten och tillåten i systemets integritetsinställningar och tryck sedan på Kontrollera igen.",
    },
    "camera_dark": {
        "en": "The camera works, but the picture is very dark.",
        "da": "Kameraet virker, men billedet er meget mørkt.",
        "de": "Die Kamera funktioniert, aber das Bild ist sehr dunkel.",
        "sv": "Kameran fungerar, men bilden är mycket mörk.",
    },
    "camera_dark_fix": {
        "en": "Turn on a light in front of you, or uncover the camera.",
        "da": "Tænd et lys foran dig, eller fjern det, der dækker kameraet.",
        "de": "Schalten Sie vor sich ein Licht ein oder decken Sie die Kamera auf.",
        "sv": "Tänd en lampa framför dig eller ta bort det som täcker kameran.",
    },
    "camera_ok": {
        "en": "The camera works ({width}×{height}).",
        "da": "Kameraet virker ({width}×{height}).",
        "de": "Die Kamera funktioniert ({width}×{height}).",
        "sv": "Kameran fungerar ({width}×{height}).",
    },
    "microphone_missing": {
        "en": "No microphone was found.",
        "da": "Der blev ikke fundet nogen mikrofon.",
        "de": "Es wurde kein Mikrofon gefunden.",
        "sv": "Ingen mikrofon hittades.",
    },
    "microphone_missing_fix": {
        "en": "Connect a microphone, then press Check again.",
        "da": "Tilslut en mikrofon, og tryk så på Tjek igen.",
        "de": "Schließen Sie ein Mikrofon an und drücken Sie dann auf Erneut prüfen.",
        "sv": "Anslut en mikrofon och tryck sedan på Kontrollera igen.",
    },
    "microphone_failed": {
        "en": "The microphone could not be opened ({why}).",
        "da": "Mikrofonen kunne ikke åbnes ({why}).",
        "de": "Das Mikrofon konnte nicht geöffnet werden ({why}).",
        "sv": "Mikrofonen kunde inte öppnas ({why}).",
    },
    "microphone_failed_fix": {
        "en": "Check that the microphone is connected and allowed in your system's privacy settings, then press Check again.",
        "da": "Tjek, at mikrofonen er tilsluttet og tilladt i systemets indstillinger for privatliv, og tryk så på Tjek igen.",
        "de": "Prüfen Sie, ob das Mikrofon angeschlossen und in den Datenschutzeinstellungen Ihres Systems erlaubt ist, und drücken Sie dann auf Erneut prüfen.",
        "sv": "Kontrollera att mikrofonen är ansluten och tillåten i systemets integritetsinställningar och tryck sedan på Kontrollera igen.",
    },
    "microphone_quiet": {
        "en": "The microphone hears almost nothing (level {level} dB).",
        "da": "Mikrofonen opfanger næsten ingenting (niveau {level} dB).",
        "de": "Das Mikrofon nimmt fast nichts auf (Pegel {level} dB).",
        "sv": "Mikrofonen hör nästan ingenting (nivå {level} dB).",
    },
    "microphone_quiet_fix": {
        "en": "Check that the microphone is not muted and its volume is up, then press Check again.",
        "da": "Tjek, at mikrofonen ikke er slået fra, og at lydstyrken er skruet op, og tryk så på Tjek igen.",
        "de": "Prüfen Sie, ob das Mikrofon nicht stummgeschaltet und die Lautstärke aufgedreht ist, und drücken Sie dann auf Erneut prüfen.",
        "sv": "Kontrollera att mikrofonen inte är avstängd och att volymen är uppskruvad och tryck sedan på Kontrollera igen.",
    },
    "microphone_ok": {
        "en": "The microphone works (level {level} dB).",
        "da": "Mikrofonen virker (niveau {level} dB).",
        "de": "Das Mikrofon funktioniert (Pegel {level} dB).",
        "sv": "Mikrofonen fungerar (nivå {level} dB).",
    },
    "screen_fix": {
        "en": "Allow Invigil to record the screen in your system settings (macOS: System Settings → Privacy & Security → Screen Recording), then press Check again.",
        "da": "Giv Invigil lov til at optage skærmen i dine systemindstillinger (macOS: Systemindstillinger → Anonymitet og sikkerhed → Skærmoptagelse), og tryk så på Tjek igen.",
        "de": "Erlauben Sie Invigil in Ihren Systemeinstellungen, den Bildschirm aufzunehmen (macOS: Systemeinstellungen → Datenschutz & Sicherheit → Bildschirmaufnahme), und drücken Sie dann auf Erneut prüfen.",
        "sv": "Tillåt Invigil att spela in skärmen i dina systeminställningar (macOS: Systeminställningar → Integritet och säkerhet → Skärminspelning) och tryck sedan på Kontrollera igen.",
    },
    "screen_missing": {
        "en": "The screen cannot be captured on this computer.",
        "da": "Skærmen kan ikke optages på denne computer.",
        "de": "Der Bildschirm kann auf diesem Computer nicht aufgenommen werden.",
        "sv": "Skärmen kan inte spelas in på den här datorn.",
    },
    "screen_failed": {
        "en": "The test screenshot failed ({why}).",
        "da": "Testskærmbilledet mislykkedes ({why}).",
        "de": "Die Test-Bildschirmaufnahme ist fehlgeschlagen ({why}).",
        "sv": "Testskärmdumpen misslyckades ({why}).",
    },
    "screen_empty": {
        "en": "The test screenshot came out empty.",
        "da": "Testskærmbilledet blev tomt.",
        "de": "Die Test-Bildschirmaufnahme ist leer.",
        "sv": "Testskärmdumpen blev tom.",
    },
    "screen_ok": {
        "en": "A test screenshot worked ({width}×{height}).",
        "da": "Et testskærmbillede virkede ({width}×{height}).",
        "de": "Eine Test-Bildschirmaufnahme hat funktioniert ({width}×{height}).",
        "sv": "En testskärmdump fungerade ({width}×{height}).",
    },
    "disk_found": {
        "en": "{gb} GB free for the recording.",
        "da": "{gb} GB ledig plads til optagelsen.",
        "de": "{gb} GB frei für die Aufzeichnung.",
        "sv": "{gb} GB ledigt för inspelningen.",
    },
    "disk_fix": {
        "en": "Free some space on this disk (empty the bin, move large files), then press Check again.",
        "da": "Frigør noget plads på disken (tøm papirkurven, flyt store filer), og tryk så på Tjek igen.",
        "de": "Schaffen Sie etwas Platz auf diesem Laufwerk (Papierkorb leeren, große Dateien verschieben) und drücken Sie dann auf Erneut prüfen.",
        "sv": "Frigör lite utrymme på disken (töm papperskorgen, flytta stora filer) och tryck sedan på Kontrollera igen.",
    },
    "clock_failed": {
        "en": "The clock could not be compared with the server's ({why}).",
        "da": "Uret kunne ikke sammenlignes med serverens ({why}).",
        "de": "Die Uhr konnte nicht mit der des Servers verglichen werden ({why}).",
        "sv": "Klockan kunde inte jämföras med serverns ({why}).",
    },
    "clock_failed_fix": {
        "en": "Check your internet connection, then press Check again.",
        "da": "Tjek din internetforbindelse, og tryk så på Tjek igen.",
        "de": "Prüfen Sie Ihre Internetverbindung und drücken Sie dann auf Erneut prüfen.",
        "sv": "Kontrollera din internetanslutning och tryck sedan på Kontrollera igen.",
    },
    "clock_ahead": {
        "en": "Your clock is {seconds} seconds ahead of the server's.",
        "da": "Dit ur går {seconds} sekunder foran serverens.",
        "de": "Ihre Uhr geht im Vergleich zum Server {seconds} Sekunden vor.",
        "sv": "Din klocka går {seconds} sekunder före serverns.",
    },
    "clock_behind": {
        "en": "Your clock is {seconds} seconds behind the server's.",
        "da": "Dit ur går {seconds} sekunder efter serverens.",
        "de": "Ihre Uhr geht im Vergleich zum Server {seconds} Sekunden nach.",
        "sv": "Din klocka går {seconds} sekunder efter serverns.",
    },
    "clock_fix": {
        "en": "Set your computer to set the date and time automatically (internet time), then press Check again.",
        "da": "Indstil din computer til at sætte dato og klokkeslæt automatisk (internettid), og tryk så på Tjek igen.",
        "de": "Stellen Sie Ihren Computer so ein, dass er Datum und Uhrzeit automatisch setzt (Internetzeit), und drücken Sie dann auf Erneut prüfen.",
        "sv": "Ställ in datorn så att den ställer in datum och tid automatiskt (internettid) och tryck sedan på Kontrollera igen.",
    },
    "clock_ok": {
        "en": "Your clock agrees with the server's.",
        "da": "Dit ur stemmer med serverens.",
        "de": "Ihre Uhr stimmt mit der des Servers überein.",
        "sv": "Din klocka stämmer med serverns.",
    },
    "checks_fix": {
        "en": "Please fix: {names}. Then press Check again.",
        "da": "Ret venligst: {names}. Tryk så på Tjek igen.",
        "de": "Bitte beheben Sie: {names}. Drücken Sie dann auf Erneut prüfen.",
        "sv": "Åtgärda: {names}. Tryck sedan på Kontrollera igen.",
    },
    "checks_ready": {
        "en": "Your computer is ready.",
        "da": "Din computer er klar.",
        "de": "Ihr Computer ist bereit.",
        "sv": "Din dator är klar.",
    },
    "what_to_do": {
        "en": "What to do: {fix}",
        "da": "Det kan du gøre: {fix}",
        "de": "Was Sie tun können: {fix}",
        "sv": "Så här gör du: {fix}",
    },
    "starting_starts_recording": {
        "en": "Starting the exam starts the recording.",
        "da": "Når du starter eksamen, starter optagelsen.",
        "de": "Mit dem Start der Prüfung beginnt die Aufzeichnung.",
        "sv": "När du startar tentamen startar inspelningen.",
    },
    # ---- what the program says while the candidate waits ------------------------------------------
    "busy_connecting": {
        "en": "Connecting to the server…",
        "da": "Forbinder til serveren …",
        "de": "Verbindung zum Server wird hergestellt …",
        "sv": "Ansluter till servern …",
    },
    "busy_checking": {
        "en": "Checking your computer…",
        "da": "Din computer bliver tjekket …",
        "de": "Ihr Computer wird geprüft …",
        "sv": "Din dator kontrolleras …",
    },
    "busy_starting_recording": {
        "en": "Starting the recording…",
        "da": "Optagelsen starter …",
        "de": "Die Aufzeichnung wird gestartet …",
        "sv": "Inspelningen startar …",
    },
    "busy_one_moment": {
        "en": "One moment…",
        "da": "Et øjeblik …",
        "de": "Einen Moment …",
        "sv": "Ett ögonblick …",
    },
    "busy_starting": {"en": "Starting…", "da": "Starter …", "de": "Wird gestartet …", "sv": "Startar …"},
    "busy_taking_photo": {
        "en": "Taking the photo…",
        "da": "Fotoet bliver taget …",
        "de": "Das Foto wird aufgenommen …",
        "sv": "Fotot tas …",
    },
    "busy_scanning": {
        "en": "Scanning the room…",
        "da": "Rummet bliver scannet …",
        "de": "Der Raum wird gescannt …",
        "sv": "Rummet skannas …",
    },
    "busy_scan_picture": {
        "en": "Scanning the room: picture {n} of {total}. Keep turning slowly…",
        "da": "Rummet bliver scannet: billede {n} af {total}. Bliv ved med at dreje langsomt …",
        "de": "Der Raum wird gescannt: Bild {n} von {total}. Drehen Sie weiter langsam …",
        "sv": "Rummet skannas: bild {n} av {total}. Fortsätt att vrida långsamt …",
    },
    "busy_opening_assignment": {
        "en": "Opening the assignment…",
        "da": "Opgaven bliver åbnet …",
        "de": "Die Aufgabe wird geöffnet …",
        "sv": "Uppgiften öppnas …",
    },
    "busy_looking_for_assignment": {
        "en": "Looking for the assignment…",
        "da": "Leder efter opgaven …",
        "de": "Die Aufgabe wird gesucht …",
        "sv": "Letar efter uppgiften …",
    },
    "busy_handing_in": {
        "en": "Handing in… keep this computer online.",
        "da": "Afleverer … hold computeren forbundet til internettet.",
        "de": "Wird abgegeben … bleiben Sie mit diesem Computer online.",
        "sv": "Lämnar in … håll datorn ansluten till internet.",
    },
    # ---- messages ----------------------------------------------------------------------------------
    "need_server": {
        "en": "Type the server address from your exam letter.",
        "da": "Skriv serveradressen fra dit eksamensbrev.",
        "de": "Geben Sie die Serveradresse aus Ihrem Prüfungsschreiben ein.",
        "sv": "Skriv serveradressen från ditt tentamensbrev.",
    },
    "need_code": {
        "en": "Type your personal activation code from your exam letter.",
        "da": "Skriv din personlige aktiveringskode fra dit eksamensbrev.",
        "de": "Geben Sie Ihren persönlichen Aktivierungscode aus Ihrem Prüfungsschreiben ein.",
        "sv": "Skriv din personliga aktiveringskod från ditt tentamensbrev.",
    },
    "unreachable": {
        "en": "Invigil cannot reach the server at {server}. Check the address and your internet connection, then try again.",
        "da": "Invigil kan ikke få forbindelse til serveren på {server}. Tjek adressen og din internetforbindelse, og prøv så igen.",
        "de": "Invigil kann den Server unter {server} nicht erreichen. Prüfen Sie die Adresse und Ihre Internetverbindung und versuchen Sie es dann erneut.",
        "sv": "Invigil kan inte nå servern på {server}. Kontrollera adressen och din internetanslutning och försök sedan igen.",
    },
    "refused_try_again": {
        "en": "{why} Then try again.",
        "da": "{why} Prøv så igen.",
        "de": "{why} Versuchen Sie es dann erneut.",
        "sv": "{why} Försök sedan igen.",
    },
    "declined": {
        "en": "You declined the privacy notice, so nothing has been recorded and your code is still unused. If you change your mind, start Invigil again; if you have questions, ask your exam office. You may close this window.",
        "da": "Du har afvist oplysningen om behandling af personoplysninger, så intet er blevet optaget, og din kode er stadig ubrugt. Hvis du ombestemmer dig, så start Invigil igen; har du spørgsmål, så kontakt eksamenskontoret. Du kan nu lukke dette vindue.",
        "de": "Sie haben die Datenschutzhinweise abgelehnt. Es wurde also nichts aufgezeichnet, und Ihr Code ist weiterhin unbenutzt. Wenn Sie es sich anders überlegen, starten Sie Invigil erneut; bei Fragen wenden Sie sich bitte an das Prüfungsamt. Sie können dieses Fenster jetzt schließen.",
        "sv": "Du har avböjt informationen om behandling av personuppgifter, så ingenting har spelats in och din kod är fortfarande oanvänd. Om du ändrar dig, starta Invigil igen; om du har frågor, kontakta tentamensexpeditionen. Du kan nu stänga det här fönstret.",
    },
    "need_pin": {
        "en": "Type the PIN the invigilator announced.",
        "da": "Skriv den pinkode, som eksamensvagten har sagt højt.",
        "de": "Geben Sie die PIN ein, die die Aufsicht bekannt gegeben hat.",
        "sv": "Skriv pinkoden som tentamensvakten har läst upp.",
    },
    "handin_empty": {
        "en": "Your hand-in folder {folder} is empty. Save your answers there, or choose the files to hand in.",
        "da": "Din afleveringsmappe {folder} er tom. Gem dine besvarelser der, eller vælg de filer, du vil aflevere.",
        "de": "Ihr Abgabeordner {folder} ist leer. Speichern Sie Ihre Antworten dort oder wählen Sie die Dateien aus, die Sie abgeben möchten.",
        "sv": "Din inlämningsmapp {folder} är tom. Spara dina svar där eller välj de filer du vill lämna in.",
    },
    "handin_confirm": {
        "en": "Hand in these files? You cannot change your hand-in afterwards.",
        "da": "Vil du aflevere disse filer? Du kan ikke ændre din aflevering bagefter.",
        "de": "Diese Dateien abgeben? Sie können Ihre Abgabe danach nicht mehr ändern.",
        "sv": "Vill du lämna in de här filerna? Du kan inte ändra din inlämning efteråt.",
    },
    "went_wrong": {
        "en": "Something went wrong: {why}",
        "da": "Noget gik galt: {why}",
        "de": "Etwas ist schiefgegangen: {why}",
        "sv": "Något gick fel: {why}",
    },
    "photo_failed": {
        "en": "The camera did not take the photo ({why}). Try again.",
        "da": "Kameraet tog ikke fotoet ({why}). Prøv igen.",
        "de": "Die Kamera hat das Foto nicht aufgenommen ({why}). Versuchen Sie es erneut.",
        "sv": "Kameran tog inte fotot ({why}). Försök igen.",
    },
    "photo_kept": {
        "en": "Photo kept. If your ID card is hard to read in it, take another.",
        "da": "Fotoet er gemt. Hvis dit id-kort er svært at læse på det, så tag et nyt.",
        "de": "Das Foto ist gespeichert. Wenn Ihr Ausweis darauf schwer zu lesen ist, nehmen Sie ein neues auf.",
        "sv": "Fotot är sparat. Om din id-handling är svår att läsa på det, ta ett nytt.",
    },
    "camera_stopped": {
        "en": "The camera stopped ({why}). Start again.",
        "da": "Kameraet stoppede ({why}). Start forfra.",
        "de": "Die Kamera hat angehalten ({why}). Beginnen Sie von vorn.",
        "sv": "Kameran stannade ({why}). Börja om.",
    },
    "no_camera_source": {
        "en": "no camera",
        "da": "intet kamera",
        "de": "keine Kamera",
        "sv": "ingen kamera",
    },
    "pin_wrong": {
        "en": "This PIN does not open the assignment. Check the PIN the invigilator announced and try again (letters or digits, dashes and spaces do not matter).",
        "da": "Denne pinkode åbner ikke opgaven. Tjek den pinkode, eksamensvagten har sagt højt, og prøv igen (store og små bogstaver, bindestreger og mellemrum er ligegyldige).",
        "de": "Diese PIN öffnet die Aufgabe nicht. Prüfen Sie die PIN, die die Aufsicht bekannt gegeben hat, und versuchen Sie es erneut (Groß- und Kleinschreibung, Bindestriche und Leerzeichen spielen keine Rolle).",
        "sv": "Den här pinkoden öppnar inte uppgiften. Kontrollera pinkoden som tentamensvakten har läst upp och försök igen (stora och små bokstäver, bindestreck och mellanslag spelar ingen roll).",
    },
    "assignment_not_ready": {
        "en": "The assignment has not been downloaded yet. Keep this computer connected to the internet for a moment, then enter the PIN again.",
        "da": "Opgaven er ikke hentet endnu. Hold computeren forbundet til internettet et øjeblik, og skriv så pinkoden igen.",
        "de": "Die Aufgabe wurde noch nicht heruntergeladen. Lassen Sie diesen Computer einen Moment mit dem Internet verbunden und geben Sie dann die PIN erneut ein.",
        "sv": "Uppgiften har inte hämtats än. Låt datorn vara ansluten till internet en stund och skriv sedan pinkoden igen.",
    },
    "assignment_damaged": {
        "en": "The assignment on this computer could not be opened ({why}). Ask your invigilator for help.",
        "da": "Opgaven på denne computer kunne ikke åbnes ({why}). Bed eksamensvagten om hjælp.",
        "de": "Die Aufgabe auf diesem Computer konnte nicht geöffnet werden ({why}). Bitten Sie die Aufsicht um Hilfe.",
        "sv": "Uppgiften på den här datorn kunde inte öppnas ({why}). Be tentamensvakten om hjälp.",
    },
    "room_scan_done": {
        "en": "The room scan is done.",
        "da": "Scanningen af rummet er færdig.",
        "de": "Der Raumscan ist abgeschlossen.",
        "sv": "Skanningen av rummet är klar.",
    },
    "assignment_open": {
        "en": "Your assignment is open in {folder}.",
        "da": "Din opgave er åbnet i {folder}.",
        "de": "Ihre Aufgabe ist in {folder} geöffnet.",
        "sv": "Din uppgift är öppnad i {folder}.",
    },
    "stopped": {
        "en": "Recording has stopped. You may close this window.",
        "da": "Optagelsen er stoppet. Du kan nu lukke dette vindue.",
        "de": "Die Aufzeichnung ist beendet. Sie können dieses Fenster jetzt schließen.",
        "sv": "Inspelningen har stoppats. Du kan nu stänga det här fönstret.",
    },
    "session_phase": {
        "en": "the session was {phase}",
        "da": "sessionens status er {phase}",
        "de": "Status der Sitzung: {phase}",
        "sv": "sessionens status är {phase}",
    },
    "failed": {
        "en": "Recording has stopped: {why}. Ask your invigilator or exam office for help.",
        "da": "Optagelsen er stoppet: {why}. Spørg eksamensvagten eller eksamenskontoret om hjælp.",
        "de": "Die Aufzeichnung ist beendet: {why}. Bitten Sie die Aufsicht oder das Prüfungsamt um Hilfe.",
        "sv": "Inspelningen har stoppats: {why}. Be tentamensvakten eller tentamensexpeditionen om hjälp.",
    },
    "handed_in": {
        "en": "Handed in. Keep this receipt: it is your proof and your key to your own data.",
        "da": "Afleveret. Gem denne kvittering: den er dit bevis og din nøgle til dine egne data.",
        "de": "Abgegeben. Bewahren Sie diese Quittung auf: Sie ist Ihr Nachweis und Ihr Schlüssel zu Ihren eigenen Daten.",
        "sv": "Inlämnat. Spara det här kvittot: det är ditt bevis och din nyckel till dina egna uppgifter.",
    },
    # ---- clocks ------------------------------------------------------------------------------------
    "clock_hours": {
        "en": "{hours} h {minutes} min",
        "da": "{hours} t. {minutes} min.",
        "de": "{hours} Std. {minutes} Min.",
        "sv": "{hours} tim {minutes} min",
    },
    "tail_in": {
        "en": "Recording stops by itself in",
        "da": "Optagelsen stopper af sig selv om",
        "de": "Die Aufzeichnung endet von selbst in",
        "sv": "Inspelningen stoppas av sig själv om",
    },
    "starts_in": {
        "en": "The exam starts in",
        "da": "Eksamen begynder om",
        "de": "Die Prüfung beginnt in",
        "sv": "Tentamen börjar om",
    },
    "time_left": {"en": "Time left", "da": "Tid tilbage", "de": "Verbleibende Zeit", "sv": "Tid kvar"},
    # ---- the receipt -------------------------------------------------------------------------------
    "receipt_title": {
        "en": "Invigil hand-in receipt — {exam}",
        "da": "Invigil-afleveringskvittering — {exam}",
        "de": "Invigil-Abgabequittung — {exam}",
        "sv": "Invigil-inlämningskvitto — {exam}",
    },
    "receipt_handed_in": {
        "en": "Handed in: {when}",
        "da": "Afleveret: {when}",
        "de": "Abgegeben: {when}",
        "sv": "Inlämnat: {when}",
    },
    "receipt_files": {
        "en": "Files: {files}",
        "da": "Filer: {files}",
        "de": "Dateien: {files}",
        "sv": "Filer: {files}",
    },
    "receipt_portal": {
        "en": "Your own data (screenshots, logs, who looked at them):",
        "da": "Dine egne data (skærmbilleder, logfiler, hvem der har set dem):",
        "de": "Ihre eigenen Daten (Bildschirmaufnahmen, Protokolle, wer sie angesehen hat):",
        "sv": "Dina egna uppgifter (skärmdumpar, loggar, vem som har tittat på dem):",
    },
    "receipt_secret": {
        "en": "Your receipt secret (it opens your own data; nobody else has it, keep it safe):",
        "da": "Koden fra din kvittering (den åbner dine egne data; ingen andre har den, så pas godt på den):",
        "de": "Das Geheimnis Ihrer Quittung (es öffnet Ihre eigenen Daten; niemand sonst hat es, bewahren Sie es sicher auf):",
        "sv": "Hemligheten från ditt kvitto (den öppnar dina egna uppgifter; ingen annan har den, förvara den säkert):",
    },
    "receipt_saved": {
        "en": "A copy of this receipt is saved in {path}",
        "da": "En kopi af denne kvittering er gemt i {path}",
        "de": "Eine Kopie dieser Quittung ist gespeichert unter {path}",
        "sv": "En kopia av det här kvittot är sparad i {path}",
    },
    # ---- the steps' controls -----------------------------------------------------------------------
    "server_address": {
        "en": "Server address",
        "da": "Serveradresse",
        "de": "Serveradresse",
        "sv": "Serveradress",
    },
    "activation_code": {
        "en": "Your personal activation code",
        "da": "Din personlige aktiveringskode",
        "de": "Ihr persönlicher Aktivierungscode",
        "sv": "Din personliga aktiveringskod",
    },
    "code_example": {
        "en": "For example ABCD-EFGH-JKMN-PQRS. Case and dashes do not matter.",
        "da": "For eksempel ABCD-EFGH-JKMN-PQRS. Store og små bogstaver og bindestreger er ligegyldige.",
        "de": "Zum Beispiel ABCD-EFGH-JKMN-PQRS. Groß- und Kleinschreibung und Bindestriche spielen keine Rolle.",
        "sv": "Till exempel ABCD-EFGH-JKMN-PQRS. Stora och små bokstäver och bindestreck spelar ingen roll.",
    },
    "button_connect": {"en": "Connect", "da": "Forbind", "de": "Verbinden", "sv": "Anslut"},
    "button_decline": {
        "en": "Decline: record nothing",
        "da": "Afvis: optag ingenting",
        "de": "Ablehnen: nichts aufzeichnen",
        "sv": "Avböj: spela inte in något",
    },
    "button_accept": {
        "en": "I accept — continue",
        "da": "Jeg accepterer — fortsæt",
        "de": "Ich stimme zu — weiter",
        "sv": "Jag godkänner — fortsätt",
    },
    "button_check_again": {
        "en": "Check again",
        "da": "Tjek igen",
        "de": "Erneut prüfen",
        "sv": "Kontrollera igen",
    },
    "button_start_exam": {
        "en": "Start the exam",
        "da": "Start eksamen",
        "de": "Prüfung starten",
        "sv": "Starta tentamen",
    },
    "button_another_photo": {
        "en": "Take another photo",
        "da": "Tag et nyt foto",
        "de": "Neues Foto aufnehmen",
        "sv": "Ta ett nytt foto",
    },
    "button_continue": {"en": "Continue", "da": "Fortsæt", "de": "Weiter", "sv": "Fortsätt"},
    "button_take_photo": {
        "en": "Take the photo",
        "da": "Tag fotoet",
        "de": "Foto aufnehmen",
        "sv": "Ta fotot",
    },
    "room_scan_picture": {
        "en": "Picture {n} of {total}",
        "da": "Billede {n} af {total}",
        "de": "Bild {n} von {total}",
        "sv": "Bild {n} av {total}",
    },
    "button_start_room_scan": {
        "en": "Start the room scan",
        "da": "Start scanningen af rummet",
        "de": "Raumscan starten",
        "sv": "Starta skanningen av rummet",
    },
    "button_open_assignment": {
        "en": "Open the assignment",
        "da": "Åbn opgaven",
        "de": "Aufgabe öffnen",
        "sv": "Öppna uppgiften",
    },
    "handin_folder": {
        "en": "Your hand-in folder: {folder}",
        "da": "Din afleveringsmappe: {folder}",
        "de": "Ihr Abgabeordner: {folder}",
        "sv": "Din inlämningsmapp: {folder}",
    },
    "assignment_files": {
        "en": "Your assignment ({files}) is in {folder}",
        "da": "Din opgave ({files}) ligger i {folder}",
        "de": "Ihre Aufgabe ({files}) liegt in {folder}",
        "sv": "Din uppgift ({files}) finns i {folder}",
    },
    "handin_dialog_title": {"en": "Hand in", "da": "Aflever", "de": "Abgeben", "sv": "Lämna in"},
    "button_choose_files": {
        "en": "Choose files…",
        "da": "Vælg filer …",
        "de": "Dateien auswählen …",
        "sv": "Välj filer …",
    },
    "button_handin_folder": {
        "en": "Hand in my folder",
        "da": "Aflever min mappe",
        "de": "Meinen Ordner abgeben",
        "sv": "Lämna in min mapp",
    },
    "file_size": {"en": "{size} bytes", "da": "{size} byte", "de": "{size} Byte", "sv": "{size} byte"},
    "button_back": {"en": "Back", "da": "Tilbage", "de": "Zurück", "sv": "Tillbaka"},
    "button_handin_now": {
        "en": "Hand in now",
        "da": "Aflever nu",
        "de": "Jetzt abgeben",
        "sv": "Lämna in nu",
    },
    "button_copy_receipt": {
        "en": "Copy the receipt",
        "da": "Kopiér kvitteringen",
        "de": "Quittung kopieren",
        "sv": "Kopiera kvittot",
    },
    "button_close": {"en": "Close", "da": "Luk", "de": "Schließen", "sv": "Stäng"},
    # ---- the terminal ------------------------------------------------------------------------------
    # The one-letter answers are the local words' first letters; the English ones work in every language.
    "answer_yes": {"en": "yes", "da": "ja", "de": "ja", "sv": "ja"},
    "answer_no": {"en": "no", "da": "nej", "de": "nein", "sv": "nej"},
    "letter_handin": {"en": "h", "da": "a", "de": "a", "sv": "l"},
    "letter_time": {"en": "t", "da": "t", "de": "z", "sv": "t"},
    "letter_again": {"en": "r", "da": "i", "de": "e", "sv": "i"},
    "letter_continue": {"en": "c", "da": "f", "de": "w", "sv": "f"},
    "prompt_notice": {
        "en": "Type '{yes}' to accept and continue, or '{no}' to decline: ",
        "da": "Skriv '{yes}' for at acceptere og fortsætte, eller '{no}' for at afvise: ",
        "de": "Geben Sie '{yes}' ein, um zuzustimmen und fortzufahren, oder '{no}', um abzulehnen: ",
        "sv": "Skriv '{yes}' för att godkänna och fortsätta, eller '{no}' för att avböja: ",
    },
    "prompt_pin": {"en": "PIN: ", "da": "Pinkode: ", "de": "PIN: ", "sv": "Pinkod: "},
    "prompt_confirm_handin": {
        "en": "Type '{yes}' to hand in these files, or '{no}' to go back: ",
        "da": "Skriv '{yes}' for at aflevere disse filer, eller '{no}' for at gå tilbage: ",
        "de": "Geben Sie '{yes}' ein, um diese Dateien abzugeben, oder '{no}', um zurückzugehen: ",
        "sv": "Skriv '{yes}' för att lämna in de här filerna, eller '{no}' för att gå tillbaka: ",
    },
    "prompt_server": {
        "en": "Server address [{server}]: ",
        "da": "Serveradresse [{server}]: ",
        "de": "Serveradresse [{server}]: ",
        "sv": "Serveradress [{server}]: ",
    },
    "prompt_code": {
        "en": "Activation code: ",
        "da": "Aktiveringskode: ",
        "de": "Aktivierungscode: ",
        "sv": "Aktiveringskod: ",
    },
    "prompt_start": {
        "en": "Press Enter to start the exam (recording starts), or type '{again}' to check again: ",
        "da": "Tryk på Enter for at starte eksamen (optagelsen starter), eller skriv '{again}' for at tjekke igen: ",
        "de": "Drücken Sie die Eingabetaste, um die Prüfung zu starten (die Aufzeichnung beginnt), oder geben Sie '{again}' ein, um erneut zu prüfen: ",
        "sv": "Tryck på Enter för att starta tentamen (inspelningen startar), eller skriv '{again}' för att kontrollera igen: ",
    },
    "prompt_fix": {
        "en": "Fix the problems above, then press Enter to check again: ",
        "da": "Ret problemerne ovenfor, og tryk så på Enter for at tjekke igen: ",
        "de": "Beheben Sie die Probleme oben und drücken Sie dann die Eingabetaste, um erneut zu prüfen: ",
        "sv": "Åtgärda problemen ovan och tryck sedan på Enter för att kontrollera igen: ",
    },
    "prompt_take_photo": {
        "en": "Press Enter to take the photo: ",
        "da": "Tryk på Enter for at tage fotoet: ",
        "de": "Drücken Sie die Eingabetaste, um das Foto aufzunehmen: ",
        "sv": "Tryck på Enter för att ta fotot: ",
    },
    "prompt_another_photo": {
        "en": "Press Enter to take another photo, or type '{go}' to continue: ",
        "da": "Tryk på Enter for at tage et nyt foto, eller skriv '{go}' for at fortsætte: ",
        "de": "Drücken Sie die Eingabetaste, um ein neues Foto aufzunehmen, oder geben Sie '{go}' ein, um fortzufahren: ",
        "sv": "Tryck på Enter för att ta ett nytt foto, eller skriv '{go}' för att fortsätta: ",
    },
    "prompt_continue": {
        "en": "Press Enter to continue: ",
        "da": "Tryk på Enter for at fortsætte: ",
        "de": "Drücken Sie die Eingabetaste, um fortzufahren: ",
        "sv": "Tryck på Enter för att fortsätta: ",
    },
    "prompt_room_scan": {
        "en": "Press Enter to start the room scan: ",
        "da": "Tryk på Enter for at starte scanningen af rummet: ",
        "de": "Drücken Sie die Eingabetaste, um den Raumscan zu starten: ",
        "sv": "Tryck på Enter för att starta skanningen av rummet: ",
    },
    "prompt_recording": {
        "en": "Type '{handin}' to hand in your hand-in folder ('{handin} FILE …' for chosen files), '{time}' for time left: ",
        "da": "Skriv '{handin}' for at aflevere din afleveringsmappe ('{handin} FIL …' for udvalgte filer), '{time}' for tid tilbage: ",
        "de": "Geben Sie '{handin}' ein, um Ihren Abgabeordner abzugeben ('{handin} DATEI …' für ausgewählte Dateien), '{time}' für die verbleibende Zeit: ",
        "sv": "Skriv '{handin}' för att lämna in din inlämningsmapp ('{handin} FIL …' för valda filer), '{time}' för tid kvar: ",
    },
    "no_more_input": {
        "en": "No more input: stopping.",
        "da": "Ingen flere indtastninger: programmet stopper.",
        "de": "Keine weiteren Eingaben: Das Programm wird beendet.",
        "sv": "Ingen mer inmatning: programmet avslutas.",
    },
}


def lang_of(wanted: str | None) -> str:
    """One of our four languages for a code such as ``da-DK`` or ``sv_SE``; English otherwise."""
    return language((wanted or "").replace("_", "-"))


def t(lang: str, key: str, **params: object) -> str:
    """A message in ``lang`` (English where it lacks one; a test keeps that empty), filled in."""
    texts = M[key]
    text = texts.get(lang) or texts["en"]
    return text.format(**params) if params else text


def number(n: int, lang: str) -> str:
    """Digits grouped as each language writes them: 12,345 / 12.345 / 12 345."""
    grouped = f"{n:,}"
    return {
        "da": grouped.replace(",", "."),
        "de": grouped.replace(",", "."),
        "sv": grouped.replace(",", "\u00a0"),
    }.get(lang, grouped)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


__all__ = ["LANGUAGES", "M", "lang_of", "number", "placeholders", "t"]
