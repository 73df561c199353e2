package story

import "strings"

// functionWords are skipped when comparing wording and are never part of a
// proper name. ASCII-folded.
var functionWords = wordSet(`
a about above across after against ago ahead all along also am amid among an and another any are around as at
be been before behind being below between both but by can could did do does during each either every few for
from further had has have having he her here hers him his how i if in including into is it its itself just last
least less many may me more most much must my near new next no nor not now of off on once one only onto or
other our out over own per since so some such than that the their them then there these they this those though
through to too under until up upon us very via was we were what when where which while who whom whose why will
with within without would yet you your

sang chieu toi trua ngay hom theo tai trong voi sau truoc khi cac nhung hien thang den de do nhu ve va la co da
se cua cho duoc mot nay nhieu rat cung dang con ma thi nen vi bi tu tren duoi
`)

// notNames are never part of a proper name even when capitalised: the
// words of Title Case headlines, titles and common nouns of officials and
// bodies, Roman numerals ("quý IV"), Vietnamese words that open bodies'
// names, the credits of news agencies and outlets ("Hai Phong (VNA) –",
// "WVR - "), which say who reports, not who acts. ASCII-folded.
var notNames = wordSet(`
attend attends attended host hosts hosted hold holds held open opens opened sign signs signed boost boosts
welcome welcomes welcomed launch launches launched receive receives received visit visits visited celebrate
celebrates celebrated mark marks marking promote promotes promoting attract attracts attracted pour pours lure
lures court courts plan plans planned eye eyes get gets got draw draws drew lead leads led review reviews help
helps hand hands handed break breaks broke begin begins began raise raises raised rise rises rose hit hits
explore explores donate donates donated meet meets met discuss discusses step steps unveil unveils complete
completes completed make makes made take takes took give gives gave set sets see sees expect expects expected
seek seeks look looks call calls work works join joins go goes say says said tell tells reach reaches reached
record records become becomes remain remains increase increases grow grows grew down links link start starts
hit hits top tops lift lifts cut cuts mulls eyes inks seals wins

city cities province provinces district districts commune ward party secretary chairman chairwoman chair vice
deputy president prime minister ministry department committee people peoples council general director head
leader leaders official officials delegation delegations ambassador consul mayor governor association community
conference forum festival programme program project projects investment investments investor investors business
businesses firm firms company companies group corporation jsc ltd co inc industrial industry park parks zone
zones economic economy port ports seaport airport airline airlines international national state government
authority authorities agency office centre center university school bank news report overseas foreign direct
trade cooperation ties relations relationship development year years month months week weeks day days today
yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday january february march april june
july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec north south
east west northern southern eastern western central capital island bay region area country countries world
global asia europe mr mrs ms dr prof excellency standing permanent sister friendship free expo fair ceremony
plant factory factories route routes flight flights ship ships container first second third fourth fifth
one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred thousand
million billion usd vnd eur teu dwt mw km fdi grdp gdp oda ceo mou mous rd covid english
i ii iii iv v vi vii viii ix x xi xii

ong ba gan hon khoang pho chu tong lanh ban so bo cuc uy thu dai hoi khu cong ty tap tinh huyen xa
kcn kkt ubnd hdnd tp tnhh cp ttxvn qd nq kl tw ct ftz sez epz iz
vna vns wvr vov vgp vir
`)

// placeWords before a name make it a place: "in Warsaw", "tại
// Warszawa", "KCN VSIP". ASCII-folded.
var placeWords = wordSet(`in at near tai o kcn kkt`)

// zoneWords after a name make it a place too: "DEEP C Industrial Zones",
// "Nomura Industrial Park". ASCII-folded.
var zoneWords = wordSet(`zone zones park parks industrial economic ftz sez ez iz ip epz`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

var viInitials = []string{"ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
	"b", "c", "d", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x"}

var viFinals = map[string]bool{"": true, "c": true, "ch": true, "m": true, "n": true, "ng": true, "nh": true, "p": true, "t": true}

// looksVietnamese reports whether an ASCII-folded word could be one
// Vietnamese syllable: an initial consonant (cluster), one group of
// vowels, a final consonant Vietnamese allows. "phong", "tung" do;
// "busan", "seoul", "display" do not.
func looksVietnamese(w string) bool {
	if len(w) > 7 {
		return false
	}
	for _, in := range viInitials {
		if strings.HasPrefix(w, in) {
			w = w[len(in):]
			break
		}
	}
	i := 0
	for i < len(w) && strings.IndexByte("aeiouy", w[i]) >= 0 {
		i++
	}
	if i == 0 || i > 3 {
		return false
	}
	return viFinals[w[i:]]
}
