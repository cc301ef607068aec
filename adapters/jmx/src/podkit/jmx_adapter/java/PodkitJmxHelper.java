import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.TabularData;
import javax.management.openmbean.TabularType;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import javax.rmi.ssl.SslRMIClientSocketFactory;

/**
 * podkit-jmx-adapter's helper JVM: one JMX connection kept across scrapes, and jmx_exporter's
 * rules applied here ({@link PodkitJmxRules}), so the adapter gets the finished exposition.
 *
 * Answers one JSON line per request line on stdin, in order; every reply carries the request's
 * "id" and "ok" (false with a one-line "error"). Requests ("op"):
 * - "ping": nothing; starts and warms the JVM.
 * - "config": the config's rules and keys (see podkit.jmx_adapter.engine); compiles the patterns
 *   as jmx_exporter does and replies "groups" (each pattern's group count). A bad pattern
 *   refuses the whole config and keeps the previous one.
 * - "scrape": {"target": {"url", "username", "password", "ssl", "ssl_options"}, "include",
 *   "exclude", "timeout_ms"} reads every bean over the kept connection (reopened once when the
 *   target restarted), one getAttributes per bean (one by one when that fails, as jmx_exporter),
 *   applies the rules and replies the exposition.
 * - "evaluate": {"beans": [{"name", "attrs": [[name, description, value]...]}], "include",
 *   "timeout_ms"} applies the rules to beans another backend read (values as JSON: null,
 *   booleans, strings, {"n": text, "d": double} numbers, {"c": [[key, value]...], "d":
 *   description} composites, {"t": {"index", "columns", "d", "rows"}} tables).
 * A scrape or evaluation replies "text_bytes", "samples", "beans", "cached" (fresh match-cache
 * entries) and "skipped" ([bean, attribute, reason] for what could not be exported); the text
 * exposition follows the reply line as that many raw UTF-8 bytes.
 * Work stops at the request's deadline, pattern matching included.
 */
public final class PodkitJmxHelper {
    private JMXConnector connector;
    private MBeanServerConnection connection;
    private final Map<ObjectName, MBeanInfo> infos = new java.util.concurrent.ConcurrentHashMap<>();
    /** Beans read at a time: JMX round trips dominate a scrape, the target serves them in parallel. */
    private static final int READER_COUNT = 4;
    private static final java.util.concurrent.ExecutorService READERS =
            java.util.concurrent.Executors.newFixedThreadPool(READER_COUNT, task -> {
                Thread thread = new Thread(task, "podkit-jmx-reader");
                thread.setDaemon(true);
                return thread;
            });
    private final Map<ObjectName, LinkedHashMap<String, String>> properties = new HashMap<>();
    private static final long INFO_TTL_NANOS = 60_000_000_000L;
    private long infosLoaded = System.nanoTime();
    private static final Set<String> SKIPPED_RUNTIME =
            Set.of("SystemProperties", "ClassPath", "BootClassPath", "LibraryPath");
    private static final Set<String> JVM_DOMAINS = Set.of("com.sun.management",
            "com.sun.management.jmxremote", "java.lang", "java.nio", "java.util.logging",
            "javax.management", "javax.management.remote", "jdk.internal", "jdk.management",
            "jdk.management.jfr", "sun.management");
    /** jmx_exporter's JmxMBeanPropertyCache pattern: key properties in the order written. */
    private static final Pattern PROPERTY = Pattern.compile(
            "([^,=:\\*\\?]+)=(\"(?:[^\\\\\"]*(?:\\\\.)?)*\"|[^,=:\"]*)");
    /** Marks a value jmx_exporter leaves out; the reason is in {@link #why}. */
    private static final Object SKIP = new Object();

    private String url = "";
    private String username = "";
    private String password = "";
    private boolean ssl;
    private Map<?, ?> sslOptions;
    private final PodkitJmxRules rules = new PodkitJmxRules();
    private final List<String[]> skipped = new ArrayList<>();
    private String why;
    /** The exposition of the last scrape or evaluation: sent raw after the reply line. */
    private byte[] body;

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PodkitJmxHelper helper = new PodkitJmxHelper();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            StringBuilder reply = new StringBuilder(1 << 16);
            long id = -1;
            String op = "?";
            try {
                Map<?, ?> request = (Map<?, ?>) new Json(line).value();
                id = ((Number) request.get("id")).longValue();
                op = String.valueOf(request.get("op"));
                reply.append("{\"id\":").append(id).append(",\"ok\":true");
                long timeout = request.get("timeout_ms") == null ? 600_000L
                        : ((Number) request.get("timeout_ms")).longValue();
                long deadline = System.nanoTime() + timeout * 1_000_000L;
                switch (op) {
                    case "ping":
                        break;
                    case "config":
                        int[] groups = helper.rules.configure(request);
                        reply.append(",\"groups\":[");
                        for (int i = 0; i < groups.length; i++) {
                            reply.append(i > 0 ? "," : "").append(groups[i]);
                        }
                        reply.append(']');
                        break;
                    case "scrape":
                        helper.target((Map<?, ?>) request.get("target"));
                        helper.scrape(strings(request.get("include")), strings(request.get("exclude")),
                                deadline, reply);
                        break;
                    case "evaluate":
                        helper.evaluate((List<?>) request.get("beans"), strings(request.get("include")),
                                deadline, reply);
                        break;
                    default:
                        throw new IllegalArgumentException("unknown op " + op);
                }
                reply.append('}');
            } catch (Throwable e) {
                helper.body = null;
                boolean ours = e instanceof PodkitJmxRules.DeadlineExceeded
                        || e instanceof IllegalArgumentException;
                if (op.equals("scrape") && !ours) {
                    helper.close();
                }
                reply.setLength(0);
                reply.append("{\"id\":").append(id).append(",\"ok\":false,\"error\":");
                quote(reply, ours && e.getMessage() != null ? e.getMessage() : oneLine(e));
                reply.append('}');
            }
            out.println(reply);
            if (helper.body != null) {
                out.write(helper.body); // the reply line said how many bytes
                helper.body = null;
            }
            out.flush();
        }
        helper.close();
    }

    // --- scraping -----------------------------------------------------------------------------

    private void scrape(List<String> include, List<String> exclude, long deadline, StringBuilder out)
            throws Exception {
        if (System.nanoTime() - infosLoaded > INFO_TTL_NANOS) {
            infos.clear(); // MBeanInfo may change when a bean is re-registered: re-read it now and then
            infosLoaded = System.nanoTime();
        }
        Set<ObjectName> names;
        try {
            connect();
            names = query(include, exclude);
        } catch (IOException e) {
            close(); // the target may have restarted: one fresh connection
            connect();
            names = query(include, exclude);
        }
        infos.keySet().retainAll(names);
        properties.keySet().retainAll(names);
        rules.dynamicExclude.keySet().retainAll(canonicalNames(names));
        begin(deadline);
        // READERS beans are read at a time (JMX round trips dominate a scrape); the rules take
        // them in jmx_exporter's order, so the output is the same as one reader's
        List<java.util.concurrent.Future<Read>> reads = new ArrayList<>(names.size());
        for (ObjectName name : names) {
            reads.add(READERS.submit(() -> read(name)));
        }
        int done = 0;
        try {
            for (java.util.concurrent.Future<Read> pending : reads) {
                long left = deadline - System.nanoTime();
                Read read;
                try {
                    read = pending.get(Math.max(left, 0), java.util.concurrent.TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new PodkitJmxRules.DeadlineExceeded("the scrape timeout ran out after reading "
                            + done + " of " + names.size() + " MBeans");
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
                }
                done++;
                apply(read);
            }
        } finally {
            for (java.util.concurrent.Future<Read> pending : reads) {
                pending.cancel(true);
            }
        }
        end(names.size(), out);
    }

    private static Set<String> canonicalNames(Set<ObjectName> names) {
        Set<String> out = new HashSet<>();
        for (ObjectName name : names) {
            out.add(name.getCanonicalName());
        }
        return out;
    }

    private void begin(long deadline) {
        skipped.clear();
        rules.begin(deadline);
    }

    private void end(int beans, StringBuilder out) {
        StringBuilder text = new StringBuilder(1 << 16);
        int samples = rules.render(text);
        body = text.toString().getBytes(StandardCharsets.UTF_8);
        out.append(",\"text_bytes\":").append(body.length);
        out.append(",\"samples\":").append(samples).append(",\"beans\":").append(beans)
                .append(",\"cached\":").append(rules.cachedCount()).append(",\"skipped\":[");
        for (int i = 0; i < skipped.size(); i++) {
            String[] one = skipped.get(i);
            out.append(i > 0 ? ",[" : "[");
            quote(out, one[0]);
            out.append(',');
            quote(out, one[1]);
            out.append(',');
            quote(out, one[2]);
            out.append(']');
        }
        out.append(']');
    }

    /** What was read of one bean (on a reading thread): the rules run on the main thread. */
    static final class Read {
        final ObjectName name;
        final String bean;
        final String canonical;
        Map<String, MBeanAttributeInfo> readable;
        List<Attribute> values;
        boolean bulk;
        final List<String[]> skipped = new ArrayList<>();

        Read(ObjectName name) {
            this.name = name;
            this.bean = name.toString();
            this.canonical = name.getCanonicalName();
        }
    }

    /** jmx_exporter's JmxScraper.scrapeBean, reading part: MBeanInfo (cached), getAttributes. */
    private Read read(ObjectName name) throws Exception {
        Read read = new Read(name);
        MBeanInfo info = infos.get(name);
        try {
            if (info == null) {
                info = connection.getMBeanInfo(name);
                infos.put(name, info);
            }
        } catch (Exception e) {
            if (connectionLost(e)) {
                throw e;
            }
            return read; // unregistered meanwhile, or unreadable: jmx_exporter skips it too
        }
        if (read.canonical.equals("jdk.management.jfr:type=FlightRecorder")) {
            return read; // as jmx_exporter: expensive, and nothing numeric
        }
        boolean runtime = read.bean.equals("java.lang:type=Runtime");
        Map<String, MBeanAttributeInfo> readable = new LinkedHashMap<>();
        for (MBeanAttributeInfo attr : info.getAttributes()) {
            String attrName = attr.getName();
            if (!attr.isReadable() || !rules.wanted(read.canonical, attrName)) {
                continue;
            }
            if (runtime && SKIPPED_RUNTIME.contains(attrName)) {
                continue; // as jmx_exporter: expensive strings it ignores anyway
            }
            readable.put(attrName, attr);
        }
        if (readable.isEmpty()) {
            return read;
        }
        read.readable = readable;
        try {
            AttributeList list = connection.getAttributes(name, readable.keySet().toArray(new String[0]));
            read.values = list.asList();
            read.bulk = true;
            if (read.values.size() < readable.size()) {
                Set<String> missing = new LinkedHashSet<>(readable.keySet());
                for (Attribute attr : read.values) {
                    missing.remove(attr.getName());
                }
                for (String attr : missing) {
                    read.skipped.add(new String[] {read.bean, attr,
                        "left out of getAttributes by the MBean server (its getter failed)"});
                }
            }
        } catch (Exception e) {
            if (connectionLost(e)) {
                throw e;
            }
            // as jmx_exporter: when the bulk read fails (one value cannot be sent or
            // unmarshalled here), read them one by one and skip the ones that fail
            read.values = new ArrayList<>();
            for (String attr : readable.keySet()) {
                try {
                    read.values.add(new Attribute(attr, connection.getAttribute(name, attr)));
                } catch (Exception one) {
                    if (connectionLost(one)) {
                        throw (IOException) one;
                    }
                    read.skipped.add(new String[] {read.bean, attr, "cannot be read: " + oneLine(one)});
                }
            }
        }
        return read;
    }

    /** jmx_exporter's JmxScraper.scrapeBean, rules part: values, customizers, recordBean. */
    private void apply(Read read) {
        skipped.addAll(read.skipped);
        if (read.values == null) {
            return;
        }
        ObjectName name = read.name;
        String domain = name.getDomain();
        LinkedHashMap<String, String> props = properties.computeIfAbsent(name, PodkitJmxHelper::keyProperties);
        List<PodkitJmxRules.Attr> attrs = new ArrayList<>();
        Map<String, String> extraLabels = new HashMap<>();
        if (read.bulk) { // the one-by-one path of jmx_exporter has no customizer
            PodkitJmxRules.Customizer customizer = rules.customizer(domain, name.getKeyPropertyList());
            if (customizer != null) {
                if (customizer.attributesAsLabels != null) {
                    Map<String, Object> byName = new HashMap<>();
                    for (Attribute attr : read.values) {
                        byName.put(attr.getName(), attr.getValue());
                    }
                    for (String label : customizer.attributesAsLabels) {
                        Object labelValue = byName.get(label);
                        if (labelValue != null) {
                            extraLabels.put(label, labelValue.toString());
                        }
                    }
                }
                attrs.addAll(customizer.extraMetrics);
            }
        }
        for (Attribute attr : read.values) {
            MBeanAttributeInfo attrInfo = read.readable.get(attr.getName());
            if (attrInfo == null) {
                continue; // not asked for: jmx_exporter skips it too
            }
            Object value = model(attr.getValue(), read.canonical, attr.getName());
            if (value == SKIP) {
                skipped.add(new String[] {read.bean, attr.getName(), why});
            } else if (value != null) {
                attrs.add(new PodkitJmxRules.Attr(attr.getName(), attrInfo.getDescription(), value));
            }
        }
        rules.bean(domain, props, extraLabels, attrs);
    }

    /** jmx_exporter's JmxMBeanPropertyCache.getKeyPropertyList. */
    static LinkedHashMap<String, String> keyProperties(ObjectName name) {
        LinkedHashMap<String, String> out = new LinkedHashMap<>();
        String rest = name.getKeyPropertyListString();
        Matcher match = PROPERTY.matcher(rest);
        while (match.lookingAt()) {
            out.put(match.group(1), match.group(2));
            rest = rest.substring(match.end());
            if (rest.startsWith(",")) {
                rest = rest.substring(1);
            }
            match.reset(rest);
        }
        return out;
    }

    /**
     * A JMX value as the rules see it: Number, String, Boolean, Composite or Tabular; null for
     * nothing to export (null, an empty Optional, an array), SKIP (reason in {@link #why}) for a
     * type jmx_exporter does not export, which it then stops reading (autoExclude).
     */
    private Object model(Object value, String canonical, String attr) {
        if (value == null || value instanceof Number || value instanceof String
                || value instanceof Boolean || value instanceof PodkitJmxRules.Composite
                || value instanceof PodkitJmxRules.Tabular) {
            return value; // (the last two: beans another backend read, already converted)
        }
        if (value instanceof java.util.Date) {
            return ((java.util.Date) value).getTime() / 1000.0;
        }
        if (value instanceof CompositeData) {
            CompositeData data = (CompositeData) value;
            CompositeType type = data.getCompositeType();
            PodkitJmxRules.Composite out = new PodkitJmxRules.Composite(type.getDescription());
            for (String key : type.keySet()) {
                Object item = model(data.get(key), canonical, key);
                if (item == SKIP) {
                    skipped.add(new String[] {canonical, attr + "." + key, why});
                } else {
                    out.items.put(key, item);
                }
            }
            return out;
        }
        if (value instanceof TabularData) {
            TabularData table = (TabularData) value;
            TabularType type = table.getTabularType();
            PodkitJmxRules.Tabular out = new PodkitJmxRules.Tabular(type.getIndexNames(),
                    new ArrayList<>(type.getRowType().keySet()), type.getRowType().getDescription());
            for (Object row : table.values()) {
                if (row instanceof CompositeData) {
                    out.rows.add((PodkitJmxRules.Composite) model(row, canonical, attr));
                }
            }
            return out;
        }
        if (value.getClass().isArray()) {
            why = "unsupported type " + value.getClass().getTypeName();
            return SKIP; // jmx_exporter does not export arrays (and keeps reading them)
        }
        if (value instanceof java.util.Optional) {
            java.util.Optional<?> optional = (java.util.Optional<?>) value;
            return optional.isPresent() ? model(optional.get(), canonical, attr) : null;
        }
        if (value instanceof Enum) {
            return value.toString();
        }
        rules.unsupported(canonical, attr);
        why = "unsupported type " + value.getClass().getTypeName();
        return SKIP;
    }

    /** The beans to read, in jmx_exporter's order: a HashSet's (first matches name HELP texts). */
    private Set<ObjectName> query(List<String> include, List<String> exclude) throws Exception {
        Set<ObjectName> names = new HashSet<>();
        Set<ObjectName> explicit = new HashSet<>();
        if (include.isEmpty()) {
            names.addAll(connection.queryNames(null, null));
        }
        for (String pattern : include) {
            Set<ObjectName> found = connection.queryNames(new ObjectName(pattern), null);
            names.addAll(found);
            explicit.addAll(found);
        }
        for (String pattern : exclude) {
            Set<ObjectName> found = connection.queryNames(new ObjectName(pattern), null);
            names.removeAll(found);
            explicit.removeAll(found);
        }
        return withoutJvm(names, explicit);
    }

    /** excludeJvmMetrics: the JVM's own beans go, unless an explicit include pattern names them. */
    private Set<ObjectName> withoutJvm(Set<ObjectName> names, Set<ObjectName> explicit) {
        if (rules.excludeJvm) {
            names.removeIf(name -> JVM_DOMAINS.contains(name.getDomain()));
            names.addAll(explicit);
        }
        return names;
    }

    // --- beans read by another backend --------------------------------------------------------

    private void evaluate(List<?> beans, List<String> include, long deadline, StringBuilder out)
            throws Exception {
        Map<ObjectName, List<?>> byName = new LinkedHashMap<>();
        for (Object item : beans) {
            Map<?, ?> bean = (Map<?, ?>) item;
            byName.put(new ObjectName((String) bean.get("name")), (List<?>) bean.get("attrs"));
        }
        Set<ObjectName> explicit = new HashSet<>();
        for (String pattern : include) {
            ObjectName p = new ObjectName(pattern);
            for (ObjectName name : byName.keySet()) {
                if (p.apply(name)) {
                    explicit.add(name);
                }
            }
        }
        Set<ObjectName> kept = withoutJvm(new HashSet<>(byName.keySet()), explicit);
        properties.keySet().retainAll(kept);
        begin(deadline);
        for (Map.Entry<ObjectName, List<?>> bean : byName.entrySet()) {
            if (!kept.contains(bean.getKey())) {
                continue;
            }
            // the same path as a bean read here: attribute filter, customizers, rules
            Read read = new Read(bean.getKey());
            read.readable = new LinkedHashMap<>();
            read.values = new ArrayList<>();
            read.bulk = true;
            for (Object a : bean.getValue()) {
                List<?> attr = (List<?>) a;
                String attrName = (String) attr.get(0);
                if (rules.wanted(read.canonical, attrName)) {
                    read.readable.put(attrName, new MBeanAttributeInfo(attrName, "java.lang.Object",
                            (String) attr.get(1), true, false, false));
                    read.values.add(new Attribute(attrName, decode(attr.get(2))));
                }
            }
            apply(read);
        }
        end(kept.size(), out);
    }

    /** A JSON-encoded value (see the class comment) as the rules see it. */
    static Object decode(Object raw) {
        if (!(raw instanceof Map)) {
            return raw instanceof Double ? new PodkitJmxRules.Num(String.valueOf(raw), (Double) raw) : raw;
        }
        Map<?, ?> map = (Map<?, ?>) raw;
        if (map.containsKey("n")) {
            String text = (String) map.get("n");
            Object d = map.get("d");
            return new PodkitJmxRules.Num(text, d != null ? Double.parseDouble((String) d) : Double.parseDouble(text));
        }
        if (map.containsKey("c")) {
            PodkitJmxRules.Composite out = new PodkitJmxRules.Composite((String) map.get("d"));
            for (Object item : (List<?>) map.get("c")) {
                List<?> pair = (List<?>) item;
                out.items.put((String) pair.get(0), decode(pair.get(1)));
            }
            return out;
        }
        Map<?, ?> table = (Map<?, ?>) map.get("t");
        PodkitJmxRules.Tabular out = new PodkitJmxRules.Tabular(strings(table.get("index")),
                strings(table.get("columns")), (String) table.get("d"));
        for (Object row : (List<?>) table.get("rows")) {
            out.rows.add((PodkitJmxRules.Composite) decode(row));
        }
        return out;
    }

    // --- the connection -----------------------------------------------------------------------

    private void target(Map<?, ?> target) {
        String newUrl = String.valueOf(target.get("url"));
        String newUser = target.get("username") == null ? "" : String.valueOf(target.get("username"));
        String newPassword = target.get("password") == null ? "" : String.valueOf(target.get("password"));
        boolean newSsl = Boolean.TRUE.equals(target.get("ssl"));
        Map<?, ?> newOptions = (Map<?, ?>) target.get("ssl_options");
        if (!newUrl.equals(url) || !newUser.equals(username) || !newPassword.equals(password)
                || newSsl != ssl || !java.util.Objects.equals(newOptions, sslOptions)) {
            close();
            url = newUrl;
            username = newUser;
            password = newPassword;
            ssl = newSsl;
            sslOptions = newOptions;
        }
    }

    /**
     * jmx_exporter 1.x's ssl map: key and trust stores (else the javax.net.ssl.* system
     * properties, as the JVM's defaults), enabled protocols and cipher suites.
     */
    private void sslContext() throws IOException {
        if (sslOptions == null) {
            return;
        }
        try {
            javax.net.ssl.KeyManager[] keys = null;
            javax.net.ssl.TrustManager[] trust = null;
            Map<?, ?> keyStore = (Map<?, ?>) sslOptions.get("key_store");
            if (keyStore != null) {
                java.security.KeyStore store = loadStore(keyStore);
                javax.net.ssl.KeyManagerFactory factory = javax.net.ssl.KeyManagerFactory.getInstance(
                        javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
                factory.init(store, String.valueOf(keyStore.get("password")).toCharArray());
                keys = factory.getKeyManagers();
            }
            Map<?, ?> trustStore = (Map<?, ?>) sslOptions.get("trust_store");
            if (trustStore != null) {
                javax.net.ssl.TrustManagerFactory factory = javax.net.ssl.TrustManagerFactory.getInstance(
                        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
                factory.init(loadStore(trustStore));
                trust = factory.getTrustManagers();
            }
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(keys, trust, null);
            javax.net.ssl.SSLContext.setDefault(context); // SslRMIClientSocketFactory uses the default
            List<String> protocols = strings(sslOptions.get("protocols"));
            if (!protocols.isEmpty()) {
                System.setProperty("javax.rmi.ssl.client.enabledProtocols", String.join(",", protocols));
            }
            List<String> ciphers = strings(sslOptions.get("ciphers"));
            if (!ciphers.isEmpty()) {
                System.setProperty("javax.rmi.ssl.client.enabledCipherSuites", String.join(",", ciphers));
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("ssl: " + oneLine(e), e);
        }
    }

    private static java.security.KeyStore loadStore(Map<?, ?> spec) throws IOException,
            java.security.GeneralSecurityException {
        String type = spec.get("type") == null || String.valueOf(spec.get("type")).isEmpty()
                ? java.security.KeyStore.getDefaultType() : String.valueOf(spec.get("type"));
        java.security.KeyStore store = java.security.KeyStore.getInstance(type);
        try (java.io.InputStream in = new java.io.FileInputStream(String.valueOf(spec.get("filename")))) {
            store.load(in, String.valueOf(spec.get("password")).toCharArray());
        }
        return store;
    }

    private void connect() throws IOException {
        if (connection != null) {
            return;
        }
        Map<String, Object> env = new HashMap<>();
        if (!username.isEmpty() && !password.isEmpty()) {
            env.put(JMXConnector.CREDENTIALS, new String[] {username, password});
        }
        if (ssl) {
            sslContext();
            SslRMIClientSocketFactory factory = new SslRMIClientSocketFactory();
            env.put("jmx.remote.rmi.client.socket.factory", factory);
            if (!"true".equalsIgnoreCase(System.getenv("RMI_REGISTRY_SSL_DISABLED"))) {
                env.put("com.sun.jndi.rmi.factory.socket", factory); // as jmx_exporter
            }
        }
        connector = JMXConnectorFactory.connect(new JMXServiceURL(url), env);
        connection = connector.getMBeanServerConnection();
    }

    private void close() {
        infos.clear();
        connection = null;
        if (connector != null) {
            try {
                connector.close();
            } catch (Exception ignored) {
                // the connection is gone anyway
            }
            connector = null;
        }
    }

    /** Whether an exception means the connection is gone (as opposed to one unreadable value). */
    private static boolean connectionLost(Throwable e) {
        return e instanceof IOException
                && !(e instanceof java.rmi.UnmarshalException)
                && !(e instanceof java.rmi.MarshalException)
                && !(e instanceof java.rmi.ServerException)
                && !(e instanceof java.rmi.ServerError);
    }

    // --- JSON ---------------------------------------------------------------------------------

    static List<String> strings(Object value) {
        List<String> out = new ArrayList<>();
        if (value instanceof List) {
            for (Object item : (List<?>) value) {
                out.add(String.valueOf(item));
            }
        }
        return out;
    }

    static String oneLine(Throwable e) {
        StringBuilder text = new StringBuilder();
        Throwable t = e;
        while (t != null && text.length() < 400) {
            if (text.length() > 0) {
                text.append(": ");
            }
            text.append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                text.append(" ").append(t.getMessage().split("\n")[0]);
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return text.toString();
    }

    private static void quote(StringBuilder out, String text) {
        if (text == null) {
            out.append("null");
            return;
        }
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }

    /** Just enough JSON to read a request: objects, arrays, strings, numbers, literals. */
    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            skip();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> map = new LinkedHashMap<>();
                i++;
                skip();
                if (s.charAt(i) == '}') {
                    i++;
                    return map;
                }
                while (true) {
                    skip();
                    String key = string();
                    skip();
                    expect(':');
                    map.put(key, value());
                    skip();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    return map;
                }
            }
            if (c == '[') {
                List<Object> list = new ArrayList<>();
                i++;
                skip();
                if (s.charAt(i) == ']') {
                    i++;
                    return list;
                }
                while (true) {
                    list.add(value());
                    skip();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    return list;
                }
            }
            if (c == '"') {
                return string();
            }
            int start = i;
            while (i < s.length() && ",}] \t".indexOf(s.charAt(i)) < 0) {
                i++;
            }
            String word = s.substring(start, i);
            switch (word) {
                case "true": return Boolean.TRUE;
                case "false": return Boolean.FALSE;
                case "null": return null;
                default: return Double.valueOf(word);
            }
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return out.toString();
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n': out.append('\n'); break;
                        case 't': out.append('\t'); break;
                        case 'r': out.append('\r'); break;
                        case 'b': out.append('\b'); break;
                        case 'f': out.append('\f'); break;
                        case 'u': out.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                        default: out.append(e);
                    }
                } else {
                    out.append(c);
                }
            }
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private void expect(char c) {
            if (s.charAt(i) != c) {
                throw new IllegalArgumentException("bad request JSON at " + i);
            }
            i++;
        }
    }
}
