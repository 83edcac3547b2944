"""The stories of the saved article pages: made up, written for these tests, about made-up
places and people (Portexample, its harbour, its film festival). make.py dresses each one in
its site's markup."""

# id -> (headline, [paragraphs]); a paragraph may hold a quotation the quote tests look for.
STORIES: dict[str, tuple[str, list[str]]] = {
    # -- The Harbour Gazette (JSON-LD, Open Graph, Twitter cards; dates declared in UTC) -----
    "g-budget": ("City council approves harbour budget after late-night session", [
        "Portexample's city council approved a revised harbour budget early on Friday, ending "
        "three weeks of argument over dredging costs and the ageing ferry terminal.",
        "“We will not cut corners on safety, whatever the dredging costs us,” said the port "
        "director, Mia Tanaka, who had warned that the north quay could close by summer.",
        "The budget sets aside 4.2 million for dredging and moves the terminal repairs to next "
        "year. Two council members voted against it, saying the fishing fleet had been left "
        "out of the talks.",
    ]),
    "g-ferry": ("Ferry strike talks collapse as crews reject pay offer", [
        "Talks between the island ferry operator and its crews broke down on Thursday evening, "
        "and the union said sailings would stop from Monday unless a new offer arrives.",
        "“Nobody on the boats wants a strike, but nobody can live on this offer either,” said "
        "the union's regional secretary, Tomas Lindqvist.",
        "The operator said it had offered a rise of three per cent and called the walkout "
        "disproportionate. Island schools have asked parents to plan for disruption.",
    ]),
    "g-lighthouse": ("Volunteers restore the old lighthouse lens", [
        "A group of retired engineers has spent two winters cleaning and re-seating the "
        "Fresnel lens of the Cape Example lighthouse, which was switched off in 1987.",
        "The lens will be lit again for one night in April, the volunteers said, before the "
        "tower opens to visitors in the summer.",
    ]),
    "g-market": ("Fish market moves indoors for the winter", [
        "The Saturday fish market will move into the former customs hall until March, after "
        "stallholders complained about the wind off the water.",
        "The council said the hall could hold forty stalls and would keep its doors open "
        "from six in the morning.",
    ]),
    "g-schools": ("Two harbour schools to share one head teacher", [
        "The primary schools on the east and west quays will share a head teacher from "
        "September, the education board decided on Wednesday.",
        "Parents' groups said they had not been consulted and asked for the decision to be "
        "reviewed at the next board meeting.",
    ]),
    "g-tram": ("Tram line extension gets a second look", [
        "Planners will study a cheaper route for the tram extension to the ferry terminal "
        "after the first design came in far over budget.",
        "The new study is due in the autumn, and construction would not start before 2028, "
        "the transport office said.",
    ]),
    "g-opinion": ("Opinion: The harbour deserves a plan, not a patch", [
        "Every winter the same quay floods and every spring the council pays for the same "
        "repair. That is not maintenance; it is a habit.",
        "A ten-year plan would cost more this year and far less over the decade. The "
        "council should ask for one before the next budget.",
    ]),
    "g-festival": ("Harbour film festival opens with a short made by machine", [
        "The Portexample Film Festival opened on Tuesday with a twelve-minute short "
        "generated from text prompts, a choice that split the audience.",
        "“A festival should show what filmmakers are doing, including the things that make "
        "us uncomfortable,” said the festival director, Ines Moreau.",
        "Several local directors walked out before the screening, saying the programme should "
        "have been announced in advance.",
    ]),
    "g-amp-storm": ("Storm closes the north quay for two days", [
        "Harbour authorities closed the north quay on Monday after waves damaged a section "
        "of the sea wall.",
        "Ferries moved to the south berth, and the authority said repairs would take at least "
        "two days.",
    ]),
    "g-amp-rents": ("Harbour rents to rise for small boat owners", [
        "Mooring fees for boats under eight metres will rise by a tenth in April, the harbour "
        "board said.",
        "Owners said the increase came with no improvement to the pontoons, some of which "
        "have been closed since the autumn.",
    ]),
    "g-amp-library": ("The library's film archive goes online", [
        "The city library has put two hundred hours of local newsreel online, digitised "
        "from reels that had been stored in the basement since the 1970s.",
        "“These films belong to the people who are in them,” said the archivist, Ruth Okafor.",
    ]),
    "g-vote": ("Harbour residents vote on a new name for the marina", [
        "Residents have until the end of the month to choose a new name for the marina, "
        "which has been called the New Basin since it opened in 1964.",
        "Three names made the shortlist, and the council will announce the winner at the "
        "spring fair.",
    ]),
    # -- Northfield Daily (Open Graph only: a WordPress site without an SEO plugin) ----------
    "n-bridge": ("Northfield bridge reopens after six months of repairs", [
        "The river bridge on Mill Road reopened to traffic on Sunday, six months after "
        "inspectors found cracks in two of its supports.",
        "Cyclists will have a separate lane for the first time, the county engineer said.",
    ]),
    "n-library": ("County library adds Sunday opening hours", [
        "The Northfield branch of the county library will open on Sundays from March, after "
        "a petition gathered more than two thousand names.",
        "The extra hours will be staffed by moving two part-time posts, the library said.",
    ]),
    "n-farm": ("Farmers' co-op buys the old grain elevator", [
        "A co-operative of twenty farms has bought the grain elevator by the railway line "
        "and plans to use it for storage again by harvest time.",
        "The building had been empty for nine years and was once due to be demolished.",
    ]),
    "n-cinema": ("Downtown cinema to show films made with AI tools", [
        "The Rialto on Main Street will run a monthly night of short films made with "
        "AI video tools, starting in March.",
        "The owner said each screening would be followed by a talk with the filmmakers about "
        "how the films were made.",
    ]),
    "n-snow": ("Snow days push the school year into June", [
        "Northfield schools will add three days at the end of the year to make up for the "
        "snow closures in January, the district said.",
        "The last day of school is now June 19.",
    ]),
    # -- Riverside Ledger (microdata only) -----------------------------------------------------
    "l-dam": ("Riverside dam gets a fish ladder at last", [
        "Work on a fish ladder at the Riverside dam will start in May, twelve years after "
        "the idea was first put to the water board.",
        "Anglers' clubs said salmon had not been seen above the dam since the 1950s.",
    ]),
    "l-mayor": ("Mayor will not run for a third term", [
        "Riverside's mayor said on Saturday that she would not seek a third term, opening "
        "the race for the autumn election.",
        "Two council members have already said they are considering a run.",
    ]),
    "l-museum": ("Museum returns carved panels to their village", [
        "The Riverside museum has returned four carved wooden panels to the village church "
        "they were taken from in 1921.",
        "The panels will be put back in place after conservation work over the summer.",
    ]),
    "l-bus": ("Night buses return to the river route", [
        "The night bus between the station and the river estates will run again from next "
        "week, two years after it was cut.",
        "The transport authority said a new contract had brought the cost down.",
    ]),
    "l-studio": ("Animation studio hires its first AI supervisor", [
        "A Riverside animation studio has appointed a supervisor to decide where AI tools "
        "may be used in its productions and where they may not.",
        "“The rule is simple: no one's face or voice without their written consent,” said "
        "the studio's founder, Dara Whelan.",
    ]),
    # -- Plain Notes (a personal blog with no metadata at all) -------------------------------
    "p-walk": ("A winter walk along the sea wall", [
        "The sea wall path is at its best in February, when the wind has cleared the "
        "beaches and the birds have the mudflats to themselves.",
        "I counted sixty oystercatchers between the slipway and the old fort.",
    ]),
    "p-bread": ("Notes on a sourdough that finally worked", [
        "After three failed loaves I changed one thing: a longer, colder rise in the fridge.",
        "The crumb was open, the crust crackled, and the kitchen smelled like a bakery.",
    ]),
    "p-camera": ("Why I went back to a film camera", [
        "A roll of film has thirty-six pictures, and that limit makes me look harder before "
        "I press the shutter.",
        "Written in Portexample, 4 February 2026.",
    ]),
    "p-garden": ("Planning this year's vegetable beds", [
        "Beans go where the potatoes were, and the potatoes move to the far bed by the "
        "fence.",
        "The garlic planted in October is already showing green tips.",
    ]),
    # -- Example Wire (Twitter cards only) --------------------------------------------------
    "w-shipyard": ("Shipyard wins order for two electric ferries", [
        "The Portexample shipyard has won a contract to build two battery-electric ferries "
        "for the island route, the company said on Friday.",
        "The first vessel is due in service in 2028.",
    ]),
    "w-software": ("Harbour authority picks new booking software", [
        "The harbour authority has chosen a new berth booking system to replace the one it "
        "has used since 2009.",
        "Boat owners will be able to book and pay online from the summer.",
    ]),
    "w-guild": ("Screen guild publishes rules for synthetic extras", [
        "The Screen Performers' Guild has published rules for productions that use "
        "generated background actors, including pay for the performers whose scans are used.",
        "“A scan is a performance, and it is paid like one,” the guild said in its statement.",
    ]),
    # -- Institute for Example Studies (citation_* meta) --------------------------------------
    "i-report": ("Coastal flooding and small harbours: a ten-year review", [
        "This report reviews flood damage in twelve small harbours between 2015 and 2025 and "
        "the repairs that followed.",
        "It finds that harbours with a maintenance plan spent about a third less on repairs "
        "than those without one.",
    ]),
    "i-brief": ("Policy brief: paying for sea walls", [
        "Sea walls protect everyone behind them, but most are paid for by the harbour alone.",
        "The brief sets out three ways to share the cost with the towns they protect.",
    ]),
    "i-paper": ("Audience attitudes to AI-generated film in five cities", [
        "We surveyed 2,400 cinema-goers in five cities about films made wholly or partly with "
        "AI video tools.",
        "Acceptance was highest for animation and lowest for documentaries.",
    ]),
    # -- 示例日报 Shili Daily (Chinese; JSON-LD and Open Graph) ----------------------------------
    "c-port": ("示例港口新码头正式启用", [
        "示例港新建的集装箱码头于周四正式投入使用，预计每年可增加三十万标准箱的吞吐能力。",
        "港口管理局表示，新码头采用岸电系统，靠港船舶可以关闭辅机，减少排放。",
    ]),
    "c-film": ("本地电影节首次设立人工智能短片单元", [
        "示例国际电影节宣布今年首次设立人工智能辅助创作短片单元，共收到一百二十部投稿。",
        "电影节负责人说：“我们想看到的是新的讲故事的方法，而不是新的特效。”",
    ]),
    "c-rail": ("城际铁路示例段开始铺轨", [
        "连接示例市与邻近城市的城际铁路于本周开始铺轨，计划明年底通车。",
        "通车后，两市之间的行程将缩短到四十分钟以内。",
    ]),
    # -- Le Courrier d'Exemple (French) -----------------------------------------------------------
    "f-port": ("Le port d'Exemple agrandit sa criée", [
        "La criée du port d'Exemple sera agrandie d'ici l'automne pour accueillir les "
        "bateaux de la flottille voisine.",
        "« Nous manquions de place chaque matin de grosse pêche », explique le président de "
        "la coopérative.",
    ]),
    "f-cinema": ("Le cinéma municipal rouvre ses portes", [
        "Fermé depuis deux ans pour travaux, le cinéma municipal rouvre samedi avec une "
        "salle de plus et des fauteuils neufs.",
        "La programmation fera une place aux courts métrages des écoles de la région.",
    ]),
    "f-velo": ("Une piste cyclable pour relier les deux rives", [
        "Une piste cyclable reliera les deux rives de la rivière dès le printemps, a annoncé "
        "la mairie.",
        "Les travaux commenceront en mars et dureront six semaines.",
    ]),
    # -- Beispielstadt Rundschau (German) -------------------------------------------------------
    "d-hafen": ("Hafenfest wird um einen Tag verlängert", [
        "Das Beispielstädter Hafenfest dauert in diesem Jahr vier statt drei Tage, teilte die "
        "Stadt am Freitag mit.",
        "Neu ist ein Programm für Familien am Sonntagvormittag.",
    ]),
    "d-kino": ("Programmkino zeigt KI-Kurzfilme", [
        "Das Programmkino am Markt zeigt im März an drei Abenden Kurzfilme, die mit "
        "KI-Werkzeugen entstanden sind.",
        "Nach jeder Vorstellung sprechen die Filmemacher über ihre Arbeit.",
    ]),
    "d-bahn": ("Neue Buslinie zum Bahnhof", [
        "Ab April verbindet eine neue Buslinie das Neubaugebiet im Norden mit dem Bahnhof.",
        "Die Busse fahren werktags alle zwanzig Minuten.",
    ]),
    # -- Frame Weekly (a magazine whose JSON-LD is sometimes broken) --------------------------
    "m-review": ("Review: a documentary that asks who owns a face", [
        "The new documentary follows three actors whose likenesses were used in adverts they "
        "never agreed to make.",
        "It is angry, careful and, in its last twenty minutes, surprisingly hopeful.",
    ]),
    "m-interview": ("The editor who cuts films with a machine at her side", [
        "She uses an AI tool to sort footage, never to choose the cut: that, she says, is "
        "still the job.",
        "“The machine finds the shots, I find the film,” she told us.",
    ]),
    "m-column": ("Column: the long tail of a viral clip", [
        "A clip that spreads for a week can be quoted for years, usually out of context.",
        "Newsrooms could do more to say where a clip came from.",
    ]),
    # -- a syndicated copy (its canonical address is on the original publisher's site) ------
    "s-copy": ("Volunteers restore the old lighthouse lens", [
        "A group of retired engineers has spent two winters cleaning and re-seating the "
        "Fresnel lens of the Cape Example lighthouse.",
        "This story first appeared in The Harbour Gazette.",
    ]),
}
