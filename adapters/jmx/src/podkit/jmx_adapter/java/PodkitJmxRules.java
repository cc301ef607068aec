import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * podkit-jmx-adapter's rule engine: jmx_exporter 1.x's collector, from MBean values to the
 * Prometheus text exposition, in the helper JVM.
 *
 * It follows jmx_exporter's JmxScraper (how values are walked: composite data adds its attribute
 * name to the key path, tabular index columns become labels), JmxCollector's Receiver (the
 * match string "domain<key=value, ...><keys>attr: value", the first matching rule, its match
 * cache, default naming, help texts, value overrides and factors, attributesAsLabels,
 * inferCounterTypeFromName) and MatchedRuleToMetricSnapshotsConverter (families by name, the
 * _objectname label when labels collide, mixed types as unknown), then writes what client_java's
 * text format writer writes (counters as NAME_total, label names sorted, Double.toString numbers).
 * Patterns are java.util.regex compiled as jmx_exporter compiles them; they read the text through
 * a CharSequence that fails at the scrape's deadline, so no pattern can run past it.
 *
 * Values reach it as Number, String, Boolean, {@link Composite} or {@link Tabular}; the helper
 * converts JMX values (and JSON-sent beans of the other backends) into those.
 */
final class PodkitJmxRules {
    static final String PREFIX = "^.*(?:";

    /** A number sent as JSON: its toString() as the JVM printed it, and its doubleValue(). */
    static final class Num extends Number {
        private static final long serialVersionUID = 1L;
        final String text;
        final double value;

        Num(String text, double value) {
            this.text = text;
            this.value = value;
        }

        @Override public int intValue() { return (int) value; }
        @Override public long longValue() { return (long) value; }
        @Override public float floatValue() { return (float) value; }
        @Override public double doubleValue() { return value; }
        @Override public String toString() { return text; }
    }

    /** CompositeData: items in its type's key order (sorted), and the type's description. */
    static final class Composite {
        final LinkedHashMap<String, Object> items = new LinkedHashMap<>();
        final String description;

        Composite(String description) {
            this.description = description;
        }
    }

    /** TabularData: index column names, the row type's description, the rows. */
    static final class Tabular {
        final List<String> index;
        final List<Composite> rows = new ArrayList<>();
        final String description;
        final List<String> columns;

        Tabular(List<String> index, List<String> columns, String description) {
            this.index = index;
            this.columns = columns;
            this.description = description;
        }
    }

    /** An attribute of a bean: name, description, value (already converted). */
    static final class Attr {
        final String name;
        final String description;
        final Object value;

        Attr(String name, String description, Object value) {
            this.name = name;
            this.description = description;
            this.value = value;
        }
    }

    static final class Rule {
        Pattern pattern;
        String source;
        String name;
        String value;
        double valueFactor = 1.0;
        String help;
        String type = "UNKNOWN";
        String[] labelNames;
        String[] labelValues;
        boolean snake;
        boolean cache;
    }

    static final class Customizer {
        String domain;
        Map<String, String> properties = new HashMap<>();
        List<String> attributesAsLabels;
        List<Attr> extraMetrics = new ArrayList<>();
    }

    /** jmx_exporter's MatchedRule. */
    static final class Matched {
        static final Matched UNMATCHED = new Matched(null, null, null, null, null, null, null, 1.0);
        final String name;
        final String matchName;
        final String type;
        final String help;
        final String[] labelNames;
        final String[] labelValues;
        final Double value;
        final double valueFactor;
        double sample;

        Matched(String name, String matchName, String type, String help, String[] labelNames,
                String[] labelValues, Double value, double valueFactor) {
            this.name = name;
            this.matchName = matchName;
            this.type = type;
            this.help = help;
            this.labelNames = labelNames;
            this.labelValues = labelValues;
            this.value = value;
            this.valueFactor = valueFactor;
        }

        Matched withSample(double sample) {
            Matched out = new Matched(name, matchName, type, help, labelNames, labelValues, value,
                    valueFactor);
            out.sample = sample;
            return out;
        }
    }

    /** Thrown when the scrape's deadline has passed (the message is the reply's error). */
    static final class DeadlineExceeded extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DeadlineExceeded(String message) {
            super(message, null, false, false);
        }
    }

    /** The text a pattern reads: fails once the deadline has passed (checked every 4096 reads). */
    static final class DeadlineChars implements CharSequence {
        private final String text;
        private final long deadline;
        private int budget = 4096;

        DeadlineChars(String text, long deadline) {
            this.text = text;
            this.deadline = deadline;
        }

        @Override
        public char charAt(int index) {
            if (--budget == 0) {
                budget = 4096;
                if (System.nanoTime() - deadline > 0) {
                    throw new DeadlineExceeded("");
                }
            }
            return text.charAt(index);
        }

        @Override public int length() { return text.length(); }
        @Override public CharSequence subSequence(int start, int end) { return text.substring(start, end); }
        @Override public String toString() { return text; }
    }

    // --- configuration ------------------------------------------------------------------------

    private Rule[] rules = {new Rule()};
    private boolean lowercaseName;
    private boolean lowercaseLabels;
    private boolean inferCounter;
    private boolean anyCache;
    private final Map<String, Matched> cache = new HashMap<>();
    Map<String, Set<String>> includeAttributes = new HashMap<>();
    Map<String, Set<String>> excludeAttributes = new HashMap<>();
    /** Read by the reading threads while the rules add to it: concurrent. */
    final Map<String, Set<String>> dynamicExclude = new java.util.concurrent.ConcurrentHashMap<>();
    boolean autoExclude = true;
    boolean excludeJvm;
    List<Customizer> customizers = new ArrayList<>();

    /** Installs a config (see the helper's "config" request); returns each pattern's group count. */
    int[] configure(Map<?, ?> config) {
        List<?> raw = (List<?>) config.get("rules");
        Rule[] parsed = new Rule[raw.size()];
        int[] groups = new int[raw.size()];
        boolean cached = false;
        for (int i = 0; i < parsed.length; i++) {
            Map<?, ?> r = (Map<?, ?>) raw.get(i);
            Rule rule = new Rule();
            rule.source = (String) r.get("pattern");
            if (rule.source != null) {
                try {
                    rule.pattern = Pattern.compile(PREFIX + rule.source + ").*$");
                } catch (PatternSyntaxException e) {
                    int at = e.getIndex() - PREFIX.length();
                    throw new IllegalArgumentException("rules[" + i + "]: pattern '" + rule.source
                            + "' is not a valid Java regex: " + e.getDescription()
                            + (at >= 0 && at <= rule.source.length() ? " near index " + at : ""));
                }
                groups[i] = rule.pattern.matcher("").groupCount();
            }
            rule.name = (String) r.get("name");
            rule.value = (String) r.get("value");
            rule.help = (String) r.get("help");
            rule.valueFactor = ((Number) r.get("valueFactor")).doubleValue();
            rule.type = (String) r.get("type");
            rule.snake = Boolean.TRUE.equals(r.get("snake"));
            rule.cache = Boolean.TRUE.equals(r.get("cache"));
            cached |= rule.cache;
            List<?> labels = (List<?>) r.get("labels");
            if (labels != null) {
                rule.labelNames = new String[labels.size()];
                rule.labelValues = new String[labels.size()];
                for (int l = 0; l < labels.size(); l++) {
                    List<?> pair = (List<?>) labels.get(l);
                    rule.labelNames[l] = (String) pair.get(0);
                    rule.labelValues[l] = (String) pair.get(1);
                }
            }
            parsed[i] = rule;
        }
        rules = parsed;
        anyCache = cached;
        cache.clear();
        lowercaseName = Boolean.TRUE.equals(config.get("lowercaseOutputName"));
        lowercaseLabels = Boolean.TRUE.equals(config.get("lowercaseOutputLabelNames"));
        inferCounter = Boolean.TRUE.equals(config.get("inferCounterTypeFromName"));
        autoExclude = !Boolean.FALSE.equals(config.get("autoExcludeObjectNameAttributes"));
        excludeJvm = Boolean.TRUE.equals(config.get("excludeJvmMetrics"));
        includeAttributes = attributeMap(config.get("includeObjectNameAttributes"));
        excludeAttributes = attributeMap(config.get("excludeObjectNameAttributes"));
        dynamicExclude.clear();
        customizers = new ArrayList<>();
        List<?> rawCustomizers = (List<?>) config.get("metricCustomizers");
        if (rawCustomizers != null) {
            for (Object item : rawCustomizers) {
                Map<?, ?> c = (Map<?, ?>) item;
                Customizer customizer = new Customizer();
                customizer.domain = (String) c.get("domain");
                for (Map.Entry<?, ?> e : ((Map<?, ?>) c.get("properties")).entrySet()) {
                    customizer.properties.put((String) e.getKey(), (String) e.getValue());
                }
                List<?> asLabels = (List<?>) c.get("attributesAsLabels");
                if (asLabels != null) {
                    customizer.attributesAsLabels = new ArrayList<>();
                    for (Object a : asLabels) {
                        customizer.attributesAsLabels.add((String) a);
                    }
                }
                for (Object extra : (List<?>) c.get("extraMetrics")) {
                    List<?> e = (List<?>) extra;
                    customizer.extraMetrics.add(new Attr((String) e.get(0), (String) e.get(1),
                            PodkitJmxHelper.decode(e.get(2))));
                }
                customizers.add(customizer);
            }
        }
        return groups;
    }

    private static Map<String, Set<String>> attributeMap(Object raw) {
        Map<String, Set<String>> out = new HashMap<>();
        if (raw instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) raw).entrySet()) {
                Set<String> names = new HashSet<>();
                for (Object name : (List<?>) e.getValue()) {
                    names.add((String) name);
                }
                out.put((String) e.getKey(), names);
            }
        }
        return out;
    }

    /** Whether an attribute is read at all (ObjectNameAttributeFilter). */
    boolean wanted(String canonical, String attr) {
        Set<String> excluded = excludeAttributes.get(canonical);
        if (excluded != null && excluded.contains(attr)) {
            return false;
        }
        Set<String> dynamic = dynamicExclude.get(canonical);
        if (dynamic != null && dynamic.contains(attr)) {
            return false;
        }
        if (includeAttributes.isEmpty()) {
            return true;
        }
        Set<String> included = includeAttributes.get(canonical);
        return included != null && included.contains(attr);
    }

    /** An attribute jmx_exporter cannot export: not read again (autoExcludeObjectNameAttributes). */
    void unsupported(String canonical, String attr) {
        if (autoExclude) {
            dynamicExclude.computeIfAbsent(canonical,
                    k -> java.util.concurrent.ConcurrentHashMap.newKeySet()).add(attr);
        }
    }

    Customizer customizer(String domain, Map<String, String> keyProperties) {
        for (Customizer c : customizers) {
            if (c.domain.equals(domain) && keyProperties.entrySet().containsAll(c.properties.entrySet())) {
                return c;
            }
        }
        return null;
    }

    // --- one scrape ---------------------------------------------------------------------------

    private final List<Matched> matched = new ArrayList<>();
    private final Set<String> fresh = new HashSet<>();
    private long deadline;

    void begin(long deadline) {
        this.deadline = deadline;
        matched.clear();
        fresh.clear();
    }

    int cachedCount() {
        return anyCache ? fresh.size() : 0;
    }

    /** One bean's attributes; extra labels come from a metric customizer's attributesAsLabels. */
    void bean(String domain, LinkedHashMap<String, String> properties, Map<String, String> extraLabels,
            List<Attr> attrs) {
        Path path = new Path(domain, properties, extraLabels, new ArrayList<>());
        for (Attr attr : attrs) {
            value(path, attr.name, attr.description, attr.value);
        }
    }

    /** Where a value sits: its bean's domain and (label) properties, the composite keys. */
    static final class Path {
        final String domain;
        final LinkedHashMap<String, String> properties;
        final Map<String, String> extraLabels;
        final List<String> keys;
        /** The match string up to the attribute name: domain<k=v, ...><key, ...>. */
        final String beanName;
        /** The help text after the attribute's description, up to ",attribute=". */
        final String help;

        Path(String domain, LinkedHashMap<String, String> properties, Map<String, String> extraLabels,
                List<String> keys) {
            this.domain = domain;
            this.properties = properties;
            this.extraLabels = extraLabels;
            this.keys = keys;
            this.beanName = domain + angle(properties.entrySet(), true) + angle(keys, false);
            this.help = domain + ":name=" + properties.get("name") + ",type=" + properties.get("type")
                    + ",attribute=";
        }
    }

    private void value(Path path, String attr, String description, Object value) {
        if (value == null) {
            return;
        }
        if (value instanceof Number || value instanceof String || value instanceof Boolean) {
            record(path, attr, description, value);
        } else if (value instanceof Composite) {
            Composite composite = (Composite) value;
            List<String> inner = new ArrayList<>(path.keys);
            inner.add(attr);
            Path innerPath = new Path(path.domain, path.properties, path.extraLabels, inner);
            for (Map.Entry<String, Object> item : composite.items.entrySet()) {
                value(innerPath, item.getKey(), composite.description, item.getValue());
            }
        } else if (value instanceof Tabular) {
            Tabular table = (Tabular) value;
            List<String> valueKeys = new ArrayList<>(new java.util.TreeSet<>(table.columns));
            valueKeys.removeAll(table.index);
            List<String> extended = new ArrayList<>(path.keys);
            extended.add(attr);
            for (Composite row : table.rows) {
                LinkedHashMap<String, String> labelled = new LinkedHashMap<>(path.properties);
                for (String idx : table.index) {
                    Object cell = row.items.get(idx);
                    if (cell == null) {
                        continue;
                    }
                    StringBuilder key = new StringBuilder(idx);
                    while (labelled.containsKey(key.toString())) {
                        key.append('_');
                    }
                    if (cell instanceof Composite) {
                        for (Map.Entry<String, Object> part : ((Composite) cell).items.entrySet()) {
                            labelled.put(key + "_" + part.getKey(), String.valueOf(part.getValue()));
                        }
                    } else {
                        labelled.put(key.toString(), cell.toString());
                    }
                }
                Path ownPath = new Path(path.domain, labelled, path.extraLabels, path.keys);
                Path columnPath = new Path(path.domain, labelled, path.extraLabels, extended);
                for (String column : valueKeys) {
                    boolean own = column.equalsIgnoreCase("value");
                    value(own ? ownPath : columnPath, own ? attr : column, table.description,
                            row.items.get(column));
                }
            }
        }
    }

    private static String angle(Iterable<?> items, boolean map) {
        StringBuilder out = new StringBuilder("<");
        boolean first = true;
        for (Object item : items) {
            if (!first) {
                out.append(", ");
            }
            first = false;
            if (map) {
                Map.Entry<?, ?> e = (Map.Entry<?, ?>) item;
                out.append(e.getKey()).append('=').append(e.getValue());
            } else {
                out.append(item);
            }
        }
        return out.append('>').toString();
    }

    /** JmxCollector.Receiver.recordBean of jmx_exporter 1.x. */
    private void record(Path path, String attrName, String description, Object beanValue) {
        String beanName = path.beanName;
        String cacheKey = null;
        Matched result = Matched.UNMATCHED;
        Matched cachedRule = null;
        if (anyCache) {
            cacheKey = beanName + attrName;
            cachedRule = cache.get(cacheKey);
            if (cachedRule != null) {
                fresh.add(cacheKey);
                result = cachedRule;
            }
        }
        if (result == Matched.UNMATCHED) {
            String help = path.help + attrName;
            if (description != null && !description.equals(attrName)) {
                help = description + " " + help;
            }
            String snake = null;
            for (int r = 0; r < rules.length; r++) {
                Rule rule = rules[r];
                if (rule.cache && cachedRule != null) {
                    continue; // a cached miss re-checks only the uncached rules
                }
                String attribute = attrName;
                if (rule.snake) {
                    if (snake == null) {
                        snake = snakeCase(attrName);
                    }
                    attribute = snake;
                }
                String matchName = beanName + attribute + ": " + (rule.cache ? "<cache>" : beanValue);
                Matcher matcher = null;
                if (rule.pattern != null) {
                    matcher = rule.pattern.matcher(new DeadlineChars(matchName, deadline));
                    try {
                        if (!matcher.matches()) {
                            continue;
                        }
                    } catch (DeadlineExceeded e) {
                        throw new DeadlineExceeded("rules[" + r + "]: pattern '" + rule.source
                                + "' was still matching '" + shorten(matchName)
                                + "' when the scrape timeout ran out");
                    }
                }
                Double override = null;
                if (rule.value != null && !rule.value.isEmpty()) {
                    try {
                        override = Double.valueOf(expand(matcher, rule.value));
                    } catch (NumberFormatException e) {
                        return;
                    }
                }
                if (rule.name == null) {
                    result = defaultExport(matchName, path, attribute, help, override,
                            rule.valueFactor, rule.type);
                    if (rule.cache) {
                        remember(cacheKey, result);
                    }
                    break;
                }
                String name = safeName(expand(matcher, rule.name));
                if (name.isEmpty()) {
                    return;
                }
                if (lowercaseName) {
                    name = name.toLowerCase();
                }
                String type = rule.type;
                if (inferCounter && name.endsWith("_total")) {
                    type = "COUNTER";
                }
                if (rule.help != null) {
                    help = expand(matcher, rule.help);
                }
                List<String> labelNames = new ArrayList<>();
                List<String> labelValues = new ArrayList<>();
                extra(path.extraLabels, labelNames, labelValues);
                if (rule.labelNames != null) {
                    for (int l = 0; l < rule.labelNames.length; l++) {
                        String labelName = safeName(expand(matcher, rule.labelNames[l]));
                        String labelValue = expand(matcher, rule.labelValues[l]);
                        if (lowercaseLabels) {
                            labelName = labelName.toLowerCase();
                        }
                        if (!labelName.isEmpty() && !labelValue.isEmpty()) {
                            labelNames.add(labelName);
                            labelValues.add(labelValue);
                        }
                    }
                }
                result = new Matched(name, matchName, type, help, labelNames.toArray(new String[0]),
                        labelValues.toArray(new String[0]), override, rule.valueFactor);
                if (rule.cache) {
                    remember(cacheKey, result);
                }
                break;
            }
        }
        if (result == Matched.UNMATCHED) {
            remember(cacheKey, result);
            return;
        }
        Object value = result.value != null ? result.value : beanValue;
        double sample;
        if (value instanceof Number) {
            sample = ((Number) value).doubleValue() * result.valueFactor;
        } else if (value instanceof Boolean) {
            sample = (Boolean) value ? 1 : 0;
        } else {
            return;
        }
        matched.add(result.withSample(sample));
    }

    private void remember(String key, Matched result) {
        if (anyCache && key != null) {
            cache.put(key, result);
            fresh.add(key);
        }
    }

    private Matched defaultExport(String matchName, Path path, String attrName, String help,
            Double value, double valueFactor, String type) {
        StringBuilder name = new StringBuilder(path.domain);
        if (!path.properties.isEmpty()) {
            name.append('_').append(path.properties.values().iterator().next());
        }
        for (String k : path.keys) {
            name.append('_').append(k);
        }
        name.append('_').append(attrName);
        String full = safeName(name.toString());
        if (lowercaseName) {
            full = full.toLowerCase();
        }
        if (inferCounter && full.endsWith("_total")) {
            type = "COUNTER";
        }
        List<String> labelNames = new ArrayList<>();
        List<String> labelValues = new ArrayList<>();
        boolean first = true;
        for (Map.Entry<String, String> e : path.properties.entrySet()) {
            if (first) {
                first = false;
                continue; // used in the name
            }
            String label = safeName(e.getKey());
            labelNames.add(lowercaseLabels ? label.toLowerCase() : label);
            labelValues.add(e.getValue());
        }
        extra(path.extraLabels, labelNames, labelValues);
        return new Matched(full, matchName, type, help, labelNames.toArray(new String[0]),
                labelValues.toArray(new String[0]), value, valueFactor);
    }

    private void extra(Map<String, String> extraLabels, List<String> names, List<String> values) {
        for (Map.Entry<String, String> e : extraLabels.entrySet()) {
            String label = safeName(e.getKey());
            names.add(lowercaseLabels ? label.toLowerCase() : label);
            values.add(e.getValue());
        }
    }

    /** Matcher.replaceAll(template) for a match that spans the whole input, without re-matching. */
    static String expand(Matcher m, String template) {
        if (template.indexOf('$') < 0 && template.indexOf('\\') < 0) {
            return template;
        }
        StringBuilder out = new StringBuilder();
        int i = 0;
        int n = template.length();
        while (i < n) {
            char c = template.charAt(i);
            if (c == '\\' && i + 1 < n) {
                out.append(template.charAt(i + 1));
                i += 2;
            } else if (c == '$' && i + 1 < n && template.charAt(i + 1) == '{') {
                int end = template.indexOf('}', i);
                String group = m.group(template.substring(i + 2, end));
                if (group != null) {
                    out.append(group);
                }
                i = end + 1;
            } else if (c == '$' && i + 1 < n && Character.isDigit(template.charAt(i + 1))) {
                int ref = template.charAt(i + 1) - '0';
                i += 2;
                while (i < n && Character.isDigit(template.charAt(i))
                        && ref * 10 + (template.charAt(i) - '0') <= m.groupCount()) {
                    ref = ref * 10 + (template.charAt(i) - '0');
                    i++;
                }
                String group = m.group(ref);
                if (group != null) {
                    out.append(group);
                }
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static String shorten(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }

    /** jmx_exporter's toSnakeAndLowerCase. */
    static String snakeCase(String name) {
        if (name == null || name.isEmpty()) {
            return name;
        }
        char first = name.charAt(0);
        boolean prevUpperOrUnderscore = Character.isUpperCase(first) || first == '_';
        StringBuilder out = new StringBuilder(name.length()).append(Character.toLowerCase(first));
        for (int i = 1; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean upper = Character.isUpperCase(c);
            if (!prevUpperOrUnderscore && upper) {
                out.append('_');
            }
            out.append(Character.toLowerCase(c));
            prevUpperOrUnderscore = upper || c == '_';
        }
        return out.toString();
    }

    /** jmx_exporter's toSafeName. */
    static String safeName(String name) {
        boolean prevUnderscore = false;
        StringBuilder out = new StringBuilder(name.length());
        if (!name.isEmpty() && Character.isDigit(name.charAt(0))) {
            out.append('_');
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean legal = c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9');
            if (!legal || c == '_') {
                if (!prevUnderscore) {
                    out.append('_');
                    prevUnderscore = true;
                }
            } else {
                out.append(c);
                prevUnderscore = false;
            }
        }
        return out.toString();
    }

    // --- exposition ---------------------------------------------------------------------------

    /** The matched samples as text exposition (format 0.0.4), families sorted by name. */
    int render(StringBuilder out) {
        TreeMap<String, List<Matched>> byName = new TreeMap<>();
        for (Matched m : matched) {
            byName.computeIfAbsent(m.name, k -> new ArrayList<>()).add(m);
        }
        int samples = 0;
        for (Map.Entry<String, List<Matched>> family : byName.entrySet()) {
            List<Matched> items = family.getValue();
            String type = items.get(0).type;
            for (Matched m : items) {
                if (!m.type.equals(type)) {
                    type = "UNKNOWN";
                    break;
                }
            }
            String[][] labels = new String[items.size()][];
            Set<String> seen = new HashSet<>();
            boolean unique = true;
            for (int i = 0; i < labels.length; i++) {
                labels[i] = sortedLabels(items.get(i));
                unique &= seen.add(String.join("\u0000", labels[i]));
            }
            String name = family.getKey();
            String base = name.endsWith("_total") ? name.substring(0, name.length() - 6) : name;
            String exposed = type.equals("COUNTER") ? base + "_total" : base;
            out.append("# HELP ").append(exposed).append(' ');
            escape(out, items.get(0).help, false);
            out.append("\n# TYPE ").append(exposed).append(' ').append(
                    type.equals("COUNTER") ? "counter" : type.equals("GAUGE") ? "gauge" : "untyped")
                    .append('\n');
            for (int i = 0; i < labels.length; i++) {
                Matched m = items.get(i);
                String[] pairs = labels[i];
                if (!unique) {
                    pairs = withLabel(pairs, "_objectname",
                            m.matchName.substring(0, m.matchName.lastIndexOf(':')));
                }
                out.append(exposed);
                if (pairs.length > 0) {
                    out.append('{');
                    for (int p = 0; p < pairs.length; p += 2) {
                        if (p > 0) {
                            out.append(',');
                        }
                        out.append(pairs[p]).append("=\"");
                        escape(out, pairs[p + 1], true);
                        out.append('"');
                    }
                    out.append('}');
                }
                out.append(' ').append(number(m.sample)).append('\n');
                samples++;
            }
        }
        return samples;
    }

    /** A sample's labels as name, value, name, value... sorted by name (a name's first value wins). */
    private static String[] sortedLabels(Matched m) {
        int n = m.labelNames.length;
        if (n == 0) {
            return new String[0];
        }
        TreeMap<String, String> sorted = new TreeMap<>();
        for (int l = 0; l < n; l++) {
            sorted.putIfAbsent(m.labelNames[l], m.labelValues[l]);
        }
        String[] out = new String[sorted.size() * 2];
        int i = 0;
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            out[i++] = e.getKey();
            out[i++] = e.getValue();
        }
        return out;
    }

    /** ``pairs`` with one more label, kept sorted (it replaces a label of the same name). */
    private static String[] withLabel(String[] pairs, String name, String value) {
        TreeMap<String, String> sorted = new TreeMap<>();
        for (int p = 0; p < pairs.length; p += 2) {
            sorted.put(pairs[p], pairs[p + 1]);
        }
        sorted.put(name, value);
        String[] out = new String[sorted.size() * 2];
        int i = 0;
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            out[i++] = e.getKey();
            out[i++] = e.getValue();
        }
        return out;
    }

    static String number(double d) {
        if (d == Double.POSITIVE_INFINITY) {
            return "+Inf";
        }
        if (d == Double.NEGATIVE_INFINITY) {
            return "-Inf";
        }
        return Double.toString(d);
    }

    private static void escape(StringBuilder out, String text, boolean quotes) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                out.append("\\\\");
            } else if (c == '\n') {
                out.append("\\n");
            } else if (c == '"' && quotes) {
                out.append("\\\"");
            } else {
                out.append(c);
            }
        }
    }
}
