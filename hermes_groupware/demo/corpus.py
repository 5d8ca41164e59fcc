"""Polish words the demo data is made of: subjects, notes, products, stages."""

from __future__ import annotations

PRODUCTS = (
    "regały magazynowe",
    "wózki paletowe",
    "drukarki etykiet",
    "skanery kodów",
    "kasy fiskalne",
    "terminale płatnicze",
    "oprogramowanie ERP",
    "licencje Hermes SQL",
    "serwery",
    "klimatyzatory",
    "pompy ciepła",
    "kotły gazowe",
    "panele fotowoltaiczne",
    "meble biurowe",
    "ekspresy do kawy",
)
DEVICES = (
    "kocioł Viessmann",
    "pompa ciepła Daikin",
    "klimatyzator LG",
    "drukarka Zebra",
    "serwer Dell",
    "kasa Posnet",
    "wózek Jungheinrich",
)
SUBJECTS = {
    "HAN": (
        "Oferta na {product} – {customer}",
        "Spotkanie handlowe z {customer}",
        "Telefon: negocjacje cenowe ({product})",
        "Przygotować umowę ramową dla {customer}",
        "Prezentacja produktu: {product}",
        "Follow-up po targach – {customer}",
    ),
    "REK": (
        "Reklamacja: uszkodzona dostawa ({product})",
        "Reklamacja jakościowa – {customer}",
        "Zwrot towaru: {product}",
        "Błędna faktura – korekta dla {customer}",
        "Reklamacja: opóźniona dostawa",
    ),
    "WEW": (
        "Raport miesięczny sprzedaży",
        "Szkolenie BHP – lista obecności",
        "Inwentaryzacja magazynu",
        "Aktualizacja cennika na {product}",
        "Przegląd umów z dostawcami",
        "Spotkanie zespołu – planowanie kwartału",
    ),
    "SER": (
        "Przegląd serwisowy: {device}",
        "Naprawa gwarancyjna – {device}",
        "Wyjazd serwisowy do {customer}",
        "Instalacja: {product}",
        "Awaria – {device} u klienta {customer}",
    ),
}
SUBTASKS = (
    "Zebrać dokumentację",
    "Uzgodnić termin z klientem",
    "Przygotować wycenę",
    "Zamówić części",
    "Sprawdzić stan magazynowy",
    "Wysłać potwierdzenie mailem",
)
NOTES = (
    "Rozmowa telefoniczna z klientem – prosi o ofertę do końca tygodnia.",
    "Klient potwierdził zainteresowanie, czeka na decyzję zarządu.",
    "Wysłano wycenę mailem. Termin ważności: 14 dni.",
    "Spotkanie w siedzibie klienta; omówiono warunki płatności (30 dni).",
    "Zgłoszenie przyjęte, przekazano do działu technicznego.",
    "Klient zgłasza ponownie ten sam problem – priorytet podniesiony.",
    "Części zamówione u dostawcy, dostawa za ok. 5 dni roboczych.",
    "Uzgodniono rabat 5% przy zamówieniu powyżej 20 000 zł.",
    "Brak kontaktu z klientem, ponowić próbę jutro.",
    "Sprawa zamknięta, klient zadowolony z rozwiązania.",
)
STAGES = ("kwalifikacja", "oferta", "negocjacje", "wygrana", "przegrana")
ROLES = (
    "Prezes zarządu",
    "Kierownik zakupów",
    "Specjalista ds. zaopatrzenia",
    "Główna księgowa",
    "Kierownik techniczny",
    "Dyrektor handlowy",
)
