# ruff: noqa: E501 - prose: sentences are easier to translate and review unbroken
"""The privacy notice's wording in English, Danish, German and Swedish. Placeholders in braces are
filled from the exam's facts (privacy/notice.py). Keep the four languages saying the same thing;
a test checks that every language has every key and every placeholder."""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "da", "de", "sv")

TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Privacy notice: {exam}",
        "not_set": "(not yet stated by the institution; ask the exam office)",
        "h_who": "Who is responsible",
        "who": "{controller} is responsible for this processing (the controller). Data protection officer: {dpo}.",
        "h_why": "Why",
        "why": "To check that the exam is taken under the rules set for it, and to document what happened on "
        "your computer during the exam, for example if cheating is suspected or if you apply for an "
        "exemption or complain.",
        "basis": "Legal basis: {basis}.",
        "h_what": "What is collected",
        "what_intro": "Only what this exam's settings switch on:",
        "sources": {
            "screenshots": "Pictures of your screen, at random moments every {min}–{max} seconds.",
            "webcam": "Pictures from your camera, at random moments every {min}–{max} seconds.",
            "webcam_clips": "Short camera clips of {clip} seconds, at random moments every {min}–{max} seconds.",
            "microphone_detection": "Whether someone speaks near your computer. It is detected on your computer; "
            "no sound is recorded or sent.",
            "microphone_recording": "Sound clips of {clip} seconds from your microphone.",
            "process_snapshots": "The names of the programs running on your computer and the titles of their "
            "windows, every {every} seconds; whether the exam window has the focus, how many monitors are "
            "connected, and signs of a virtual machine or remote-desktop software.",
            "browser_history": "The web addresses you visit during the exam (nothing from before or after).",
            "handin_folder_backup": "Copies of the files you save in the hand-in folder.",
            "removable_storage": "When a USB stick or similar storage is plugged in.",
            "clipboard": "Nothing from your clipboard; it is emptied at the start and at the end.",
            "room_scan": "A short camera sweep of your room at the start.",
            "id_check": "A photo of your ID card, checked by a person (no biometrics).",
            "face_verification": "A reference photo of your face at the start, compared with later camera "
            "pictures (biometric data); only a coarse similarity is kept.",
        },
        "always": "Always: when you activated, handed in and closed the program, when your computer was "
        "offline, and your hand-in receipt.",
        "h_when": "When",
        "when": "Only after you enter your personal exam code, until {tail} minutes after you hand in; then "
        "the program stops by itself. If your connection drops, recording continues for up to {offline} "
        "minutes and is sent when you are back online.",
        "h_flags": "Automated analysis",
        "flags": "Software marks moments for a person to look at (flags), such as a second person in view or "
        "a forbidden program. A flag is not a verdict: only people decide, and nothing is decided "
        "automatically.",
        "h_access": "Who can see it",
        "access": "The invigilators of this exam, during the exam; the reviewers of this exam; and you, with "
        "the secret on your hand-in receipt. Examiners who grade your answer see none of it. Every "
        "look at your data is logged, and you can see who looked and when.",
        "h_where": "Where and how it is kept",
        "where": "Everything is encrypted on your computer before it is sent, with keys only the institution "
        "holds; the server stores it encrypted, in the region {region}.",
        "h_how_long": "How long",
        "how_long": "After the exam, each kind of data is deleted when its period ends, unless a case about "
        "the exam is still open:",
        "retention_line": "{what}: {days} days",
        "categories": {
            "webcam": "camera pictures and clips",
            "screen": "screen pictures",
            "audio": "sound",
            "process_and_browser_logs": "program lists and web addresses",
            "biometric": "biometric data and similarity scores",
            "handins": "hand-ins",
            "flags_and_decisions": "flags and decisions",
            "access_and_audit_logs": "access and audit logs",
            "identity": "your name and student details",
        },
        "h_rights": "Your rights",
        "rights": "You can see everything collected about you (from the link on your receipt), and ask for "
        "it to be corrected, erased or restricted, or object to the processing. Write to the data "
        "protection officer.",
        "complaint": "You can complain to the data protection authority: {authority}.",
        "acknowledge": "I have read what will be recorded during this exam and why.",
    },
    "da": {
        "title": "Oplysning om behandling af personoplysninger: {exam}",
        "not_set": "(endnu ikke oplyst af institutionen; spørg eksamenskontoret)",
        "h_who": "Hvem er ansvarlig",
        "who": "{controller} er dataansvarlig for behandlingen. Databeskyttelsesrådgiver: {dpo}.",
        "h_why": "Hvorfor",
        "why": "For at kontrollere, at eksamen foregår efter de regler, der gælder for den, og for at "
        "dokumentere, hvad der skete på din computer under eksamen, fx ved mistanke om eksamenssnyd, "
        "eller hvis du søger dispensation eller klager.",
        "basis": "Retsgrundlag: {basis}.",
        "h_what": "Hvad indsamles",
        "what_intro": "Kun det, denne eksamens indstillinger slår til:",
        "sources": {
            "screenshots": "Billeder af din skærm på tilfældige tidspunkter, hvert {min}.–{max}. sekund.",
            "webcam": "Billeder fra dit kamera på tilfældige tidspunkter, hvert {min}.–{max}. sekund.",
            "webcam_clips": "Korte kameraklip på {clip} sekunder på tilfældige tidspunkter, hvert {min}.–{max}. "
            "sekund.",
            "microphone_detection": "Om nogen taler ved din computer. Det registreres på din computer; der "
            "optages og sendes ingen lyd.",
            "microphone_recording": "Lydklip på {clip} sekunder fra din mikrofon.",
            "process_snapshots": "Navnene på de programmer, der kører på din computer, og titlerne på deres "
            "vinduer, hvert {every}. sekund; om eksamensvinduet er i fokus, hvor mange skærme der er "
            "tilsluttet, og tegn på en virtuel maskine eller fjernskrivebordsprogrammer.",
            "browser_history": "De webadresser, du besøger under eksamen (intet fra før eller efter).",
            "handin_folder_backup": "Kopier af de filer, du gemmer i afleveringsmappen.",
            "removable_storage": "Når en USB-nøgle eller lignende lager sættes i.",
            "clipboard": "Intet fra din udklipsholder; den tømmes ved start og slut.",
            "room_scan": "En kort kamerarundgang i dit rum ved start.",
            "id_check": "Et foto af dit ID-kort, som en person kontrollerer (ingen biometri).",
            "face_verification": "Et referencefoto af dit ansigt ved start, som sammenlignes med senere "
            "kamerabilleder (biometriske data); kun en grov lighed gemmes.",
        },
        "always": "Altid: hvornår du aktiverede, afleverede og lukkede programmet, hvornår din computer var "
        "offline, og din afleveringskvittering.",
        "h_when": "Hvornår",
        "when": "Først når du har indtastet din personlige eksamenskode, og indtil {tail} minutter efter "
        "aflevering; så stopper programmet af sig selv. Hvis forbindelsen afbrydes, fortsætter "
        "optagelsen i op til {offline} minutter og sendes, når du er online igen.",
        "h_flags": "Automatisk analyse",
        "flags": "Software markerer øjeblikke, som en person skal se på (markeringer), fx en anden person i "
        "billedet eller et forbudt program. En markering er ikke en afgørelse: kun mennesker træffer "
        "afgørelser, og intet afgøres automatisk.",
        "h_access": "Hvem kan se det",
        "access": "Eksamensvagterne ved denne eksamen, under eksamen; bedømmerne af optagelserne ved denne "
        "eksamen; og du selv, med koden på din afleveringskvittering. Eksaminatorer, der bedømmer din "
        "besvarelse, ser intet af det. Hver gang nogen ser dine data, logges det, og du kan se hvem "
        "og hvornår.",
        "h_where": "Hvor og hvordan det opbevares",
        "where": "Alt krypteres på din computer, før det sendes, med nøgler som kun institutionen har; "
        "serveren opbevarer det krypteret i regionen {region}.",
        "h_how_long": "Hvor længe",
        "how_long": "Efter eksamen slettes hver type data, når dens periode udløber, medmindre en sag om "
        "eksamen stadig er åben:",
        "retention_line": "{what}: {days} dage",
        "categories": {
            "webcam": "kamerabilleder og -klip",
            "screen": "skærmbilleder",
            "audio": "lyd",
            "process_and_browser_logs": "programlister og webadresser",
            "biometric": "biometriske data og lighedsscorer",
            "handins": "afleveringer",
            "flags_and_decisions": "markeringer og afgørelser",
            "access_and_audit_logs": "adgangs- og revisionslog",
            "identity": "dit navn og dine studieoplysninger",
        },
        "h_rights": "Dine rettigheder",
        "rights": "Du kan se alt, hvad der er indsamlet om dig (via linket på din kvittering), og bede om "
        "berigtigelse, sletning eller begrænsning, eller gøre indsigelse mod behandlingen. Skriv til "
        "databeskyttelsesrådgiveren.",
        "complaint": "Du kan klage til tilsynsmyndigheden: {authority}.",
        "acknowledge": "Jeg har læst, hvad der optages under denne eksamen, og hvorfor.",
    },
    "de": {
        "title": "Datenschutzhinweise: {exam}",
        "not_set": "(von der Hochschule noch nicht angegeben; bitte beim Prüfungsamt nachfragen)",
        "h_who": "Verantwortlich",
        "who": "Verantwortlich für diese Verarbeitung ist {controller}. Datenschutzbeauftragte Stelle: {dpo}.",
        "h_why": "Zweck",
        "why": "Um zu prüfen, dass die Prüfung nach den für sie geltenden Regeln abgelegt wird, und um zu "
        "dokumentieren, was während der Prüfung auf Ihrem Computer geschah, etwa bei einem "
        "Täuschungsverdacht oder wenn Sie einen Nachteilsausgleich beantragen oder sich beschweren.",
        "basis": "Rechtsgrundlage: {basis}.",
        "h_what": "Was erfasst wird",
        "what_intro": "Nur was die Einstellungen dieser Prüfung einschalten:",
        "sources": {
            "screenshots": "Bilder Ihres Bildschirms zu zufälligen Zeitpunkten, alle {min}–{max} Sekunden.",
            "webcam": "Bilder Ihrer Kamera zu zufälligen Zeitpunkten, alle {min}–{max} Sekunden.",
            "webcam_clips": "Kurze Kameraclips von {clip} Sekunden zu zufälligen Zeitpunkten, alle {min}–{max} "
            "Sekunden.",
            "microphone_detection": "Ob in der Nähe Ihres Computers gesprochen wird. Das wird auf Ihrem Computer "
            "erkannt; es wird kein Ton aufgenommen oder gesendet.",
            "microphone_recording": "Tonaufnahmen von {clip} Sekunden über Ihr Mikrofon.",
            "process_snapshots": "Die Namen der Programme, die auf Ihrem Computer laufen, und die Titel ihrer "
            "Fenster, alle {every} Sekunden; ob das Prüfungsfenster im Vordergrund ist, wie viele Bildschirme "
            "angeschlossen sind und Anzeichen einer virtuellen Maschine oder von Fernsteuerungssoftware.",
            "browser_history": "Die Webadressen, die Sie während der Prüfung aufrufen (nichts davor oder danach).",
            "handin_folder_backup": "Kopien der Dateien, die Sie im Abgabeordner speichern.",
            "removable_storage": "Wenn ein USB-Stick oder ähnlicher Speicher eingesteckt wird.",
            "clipboard": "Nichts aus Ihrer Zwischenablage; sie wird zu Beginn und am Ende geleert.",
            "room_scan": "Ein kurzer Kameraschwenk durch Ihren Raum zu Beginn.",
            "id_check": "Ein Foto Ihres Ausweises, das eine Person prüft (keine Biometrie).",
            "face_verification": "Ein Referenzfoto Ihres Gesichts zu Beginn, das mit späteren Kamerabildern "
            "verglichen wird (biometrische Daten); nur eine grobe Ähnlichkeit wird gespeichert.",
        },
        "always": "Immer: wann Sie das Programm aktiviert, abgegeben und beendet haben, wann Ihr Computer offline "
        "war, und Ihre Abgabequittung.",
        "h_when": "Wann",
        "when": "Erst nachdem Sie Ihren persönlichen Prüfungscode eingegeben haben, bis {tail} Minuten nach der "
        "Abgabe; dann beendet sich das Programm selbst. Bricht die Verbindung ab, wird bis zu {offline} "
        "Minuten weiter aufgezeichnet und gesendet, sobald Sie wieder online sind.",
        "h_flags": "Automatische Auswertung",
        "flags": "Software markiert Momente, die sich ein Mensch ansehen soll (Markierungen), etwa eine zweite "
        "Person im Bild oder ein verbotenes Programm. Eine Markierung ist kein Urteil: Nur Menschen "
        "entscheiden, und nichts wird automatisch entschieden.",
        "h_access": "Wer es sehen kann",
        "access": "Die Aufsichtspersonen dieser Prüfung während der Prüfung; die mit der Auswertung betrauten "
        "Personen dieser Prüfung; und Sie selbst mit dem Geheimnis auf Ihrer Abgabequittung. "
        "Prüfende, die Ihre Arbeit bewerten, sehen nichts davon. Jeder Zugriff auf Ihre Daten wird "
        "protokolliert, und Sie können sehen, wer wann zugegriffen hat.",
        "h_where": "Wo und wie es gespeichert wird",
        "where": "Alles wird auf Ihrem Computer verschlüsselt, bevor es gesendet wird, mit Schlüsseln, die nur "
        "die Hochschule besitzt; der Server speichert es verschlüsselt in der Region {region}.",
        "h_how_long": "Wie lange",
        "how_long": "Nach der Prüfung wird jede Art von Daten gelöscht, wenn ihre Frist endet, es sei denn, ein "
        "Verfahren zu der Prüfung ist noch offen:",
        "retention_line": "{what}: {days} Tage",
        "categories": {
            "webcam": "Kamerabilder und -clips",
            "screen": "Bildschirmbilder",
            "audio": "Ton",
            "process_and_browser_logs": "Programmlisten und Webadressen",
            "biometric": "biometrische Daten und Ähnlichkeitswerte",
            "handins": "Abgaben",
            "flags_and_decisions": "Markierungen und Entscheidungen",
            "access_and_audit_logs": "Zugriffs- und Prüfprotokolle",
            "identity": "Ihr Name und Ihre Studierendendaten",
        },
        "h_rights": "Ihre Rechte",
        "rights": "Sie können alles einsehen, was über Sie erfasst wurde (über den Link auf Ihrer Quittung), "
        "und Berichtigung, Löschung oder Einschränkung verlangen oder der Verarbeitung widersprechen. "
        "Schreiben Sie der oder dem Datenschutzbeauftragten.",
        "complaint": "Sie können sich bei der Datenschutzaufsichtsbehörde beschweren: {authority}.",
        "acknowledge": "Ich habe gelesen, was während dieser Prüfung aufgezeichnet wird und warum.",
    },
    "sv": {
        "title": "Information om behandling av personuppgifter: {exam}",
        "not_set": "(ännu inte angivet av lärosätet; fråga tentamensexpeditionen)",
        "h_who": "Vem är ansvarig",
        "who": "{controller} är personuppgiftsansvarig för behandlingen. Dataskyddsombud: {dpo}.",
        "h_why": "Varför",
        "why": "För att kontrollera att tentamen genomförs enligt de regler som gäller för den, och för att "
        "dokumentera vad som hände på din dator under tentamen, till exempel vid misstanke om fusk "
        "eller om du ansöker om dispens eller klagar.",
        "basis": "Rättslig grund: {basis}.",
        "h_what": "Vad som samlas in",
        "what_intro": "Endast det som den här tentamens inställningar slår på:",
        "sources": {
            "screenshots": "Bilder av din skärm vid slumpmässiga tillfällen, var {min}–{max}:e sekund.",
            "webcam": "Bilder från din kamera vid slumpmässiga tillfällen, var {min}–{max}:e sekund.",
            "webcam_clips": "Korta kameraklipp på {clip} sekunder vid slumpmässiga tillfällen, var {min}–{max}:e "
            "sekund.",
            "microphone_detection": "Om någon talar nära din dator. Det upptäcks på din dator; inget ljud spelas "
            "in eller skickas.",
            "microphone_recording": "Ljudklipp på {clip} sekunder från din mikrofon.",
            "process_snapshots": "Namnen på de program som körs på din dator och titlarna på deras fönster, "
            "var {every}:e sekund; om tentamensfönstret har fokus, hur många skärmar som är anslutna och "
            "tecken på en virtuell maskin eller fjärrskrivbordsprogram.",
            "browser_history": "De webbadresser du besöker under tentamen (inget från före eller efter).",
            "handin_folder_backup": "Kopior av de filer du sparar i inlämningsmappen.",
            "removable_storage": "När ett USB-minne eller liknande lagring ansluts.",
            "clipboard": "Inget från ditt urklipp; det töms vid start och slut.",
            "room_scan": "En kort kamerasvepning av ditt rum vid start.",
            "id_check": "Ett foto av din id-handling, som en person kontrollerar (ingen biometri).",
            "face_verification": "Ett referensfoto av ditt ansikte vid start, som jämförs med senare "
            "kamerabilder (biometriska uppgifter); endast en grov likhet sparas.",
        },
        "always": "Alltid: när du aktiverade, lämnade in och stängde programmet, när din dator var offline, och "
        "ditt inlämningskvitto.",
        "h_when": "När",
        "when": "Först efter att du har angett din personliga tentamenskod, och fram till {tail} minuter efter "
        "inlämning; sedan stannar programmet av sig självt. Om anslutningen bryts fortsätter "
        "inspelningen i upp till {offline} minuter och skickas när du är online igen.",
        "h_flags": "Automatisk analys",
        "flags": "Programvara markerar ögonblick som en människa ska titta på (markeringar), till exempel en "
        "andra person i bild eller ett förbjudet program. En markering är inget beslut: bara människor "
        "fattar beslut, och inget avgörs automatiskt.",
        "h_access": "Vem kan se det",
        "access": "Tentamensvakterna för den här tentamen, under tentamen; granskarna för den här tentamen; och "
        "du själv, med hemligheten på ditt inlämningskvitto. Examinatorer som bedömer ditt svar ser "
        "inget av det. Varje gång någon tittar på dina uppgifter loggas det, och du kan se vem och när.",
        "h_where": "Var och hur det lagras",
        "where": "Allt krypteras på din dator innan det skickas, med nycklar som bara lärosätet har; servern "
        "lagrar det krypterat i regionen {region}.",
        "h_how_long": "Hur länge",
        "how_long": "Efter tentamen raderas varje typ av uppgifter när dess period löper ut, om inte ett ärende "
        "om tentamen fortfarande är öppet:",
        "retention_line": "{what}: {days} dagar",
        "categories": {
            "webcam": "kamerabilder och klipp",
            "screen": "skärmbilder",
            "audio": "ljud",
            "process_and_browser_logs": "programlistor och webbadresser",
            "biometric": "biometriska uppgifter och likhetsvärden",
            "handins": "inlämningar",
            "flags_and_decisions": "markeringar och beslut",
            "access_and_audit_logs": "åtkomst- och granskningsloggar",
            "identity": "ditt namn och dina studieuppgifter",
        },
        "h_rights": "Dina rättigheter",
        "rights": "Du kan se allt som har samlats in om dig (via länken på ditt kvitto) och begära rättelse, "
        "radering eller begränsning, eller invända mot behandlingen. Skriv till dataskyddsombudet.",
        "complaint": "Du kan klaga hos tillsynsmyndigheten: {authority}.",
        "acknowledge": "Jag har läst vad som spelas in under den här tentamen och varför.",
    },
}
