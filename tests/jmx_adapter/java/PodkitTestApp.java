import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.CompositeDataSupport;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;
import javax.management.openmbean.TabularDataSupport;
import javax.management.openmbean.TabularType;

/**
 * The JMX target of podkit's JMX adapter tests: registers MBeans with simple, boolean, string,
 * composite and tabular attributes, prints READY and waits to be killed.
 *
 * The podkit.shapes domain holds the odd shapes the output tests compare with jmx_exporter's
 * rules: every java.lang.Number kind, a Character, nested tabular data, object names with
 * control characters, two beans of one family with different descriptions.
 *
 * System properties: podkit.slowMs (a Slow bean whose getter sleeps that long),
 * podkit.extraBeans (that many extra beans, for the benchmark) with podkit.extraAttributes
 * attributes each (default 1).
 */
public final class PodkitTestApp {

    /** A value of a class only this JVM has: a JMX client cannot unmarshal it. */
    static final class Custom implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final int value = 7;
    }

    /** A DynamicMBean whose attributes are suppliers, with chosen types and descriptions. */
    static final class Bean implements DynamicMBean {
        private final Map<String, Supplier<Object>> values = new LinkedHashMap<>();
        private final List<MBeanAttributeInfo> infos = new ArrayList<>();

        Bean add(String name, String type, String description, Supplier<Object> value) {
            values.put(name, value);
            infos.add(new MBeanAttributeInfo(name, type, description, true, false, false));
            return this;
        }

        @Override
        public Object getAttribute(String attribute) throws AttributeNotFoundException {
            Supplier<Object> s = values.get(attribute);
            if (s == null) {
                throw new AttributeNotFoundException(attribute);
            }
            return s.get();
        }

        @Override
        public void setAttribute(Attribute attribute) {
            throw new UnsupportedOperationException();
        }

        @Override
        public AttributeList getAttributes(String[] attributes) {
            AttributeList out = new AttributeList();
            for (String a : attributes) {
                Supplier<Object> s = values.get(a);
                if (s != null) {
                    out.add(new Attribute(a, s.get()));
                }
            }
            return out;
        }

        @Override
        public AttributeList setAttributes(AttributeList attributes) {
            return new AttributeList();
        }

        @Override
        public Object invoke(String actionName, Object[] params, String[] signature) {
            return null;
        }

        @Override
        public MBeanInfo getMBeanInfo() {
            return new MBeanInfo(
                    Bean.class.getName(), "podkit test bean",
                    infos.toArray(new MBeanAttributeInfo[0]), null, null, null);
        }
    }

    static void registerShapes(MBeanServer server) throws Exception {
        server.registerMBean(new Bean()
                .add("FloatValue", "float", "a float", () -> 0.2f)
                .add("ShortValue", "short", "a short", () -> (short) 7)
                .add("ByteValue", "byte", "a byte", () -> (byte) -3)
                .add("Decimal", "java.math.BigDecimal", "a decimal", () -> new java.math.BigDecimal("1.10"))
                .add("Huge", "java.math.BigInteger", "a big integer",
                        () -> new java.math.BigInteger("123456789012345678901234567890"))
                .add("Atomic", "java.util.concurrent.atomic.AtomicLong", "an atomic long",
                        () -> new java.util.concurrent.atomic.AtomicLong(5))
                .add("Letter", "char", "a character", () -> 'x')
                .add("NotANumber", "double", "NaN", () -> Double.NaN)
                .add("Requests_total", "long", "a gauge named like a counter", () -> 9L),
                new ObjectName("podkit.shapes:type=Numbers"));

        // nested tabular data: each row's value is itself a table
        CompositeType inner = new CompositeType(
                "Inner", "inner row", new String[] {"key", "value"},
                new String[] {"inner key", "inner value"},
                new OpenType<?>[] {SimpleType.STRING, SimpleType.INTEGER});
        TabularType innerType = new TabularType("InnerTable", "inner", inner, new String[] {"key"});
        CompositeType outer = new CompositeType(
                "Outer", "outer row", new String[] {"key", "value"},
                new String[] {"outer key", "outer value"},
                new OpenType<?>[] {SimpleType.STRING, innerType});
        TabularType outerType = new TabularType("OuterTable", "outer", outer, new String[] {"key"});
        TabularDataSupport nested = new TabularDataSupport(outerType);
        for (String k : new String[] {"p", "q"}) {
            TabularDataSupport in = new TabularDataSupport(innerType);
            in.put(new CompositeDataSupport(inner, new String[] {"key", "value"}, new Object[] {"i", k.equals("p") ? 1 : 2}));
            nested.put(new CompositeDataSupport(outer, new String[] {"key", "value"}, new Object[] {k, in}));
        }
        server.registerMBean(new Bean()
                .add("Nested", "javax.management.openmbean.TabularData", "nested", () -> nested),
                new ObjectName("podkit.shapes:type=Nested"));

        for (String name : new String[] {"tab\tname", "cr\rname", "nel\u0085name"}) {
            server.registerMBean(new Bean().add("Value", "int", "odd", () -> 1),
                    new ObjectName("podkit.shapes:type=Odd,name=" + name));
        }
        server.registerMBean(new Bean().add("Value", "int", "first description", () -> 1),
                new ObjectName("podkit.shapes:type=Help,name=one"));
        server.registerMBean(new Bean().add("Value", "int", "second description", () -> 2),
                new ObjectName("podkit.shapes:type=Help,name=two"));
        server.registerMBean(new Bean()
                .add("Label", "java.lang.String", "a label", () -> "blue")
                .add("Count", "int", "a count", () -> 3),
                new ObjectName("podkit.shapes:type=Customized,name=c"));
    }

    public static void main(String[] args) throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();

        server.registerMBean(new Bean()
                .add("Count", "int", "the count", () -> 42)
                .add("Ratio", "double", "a ratio", () -> 0.5)
                .add("Big", "double", "a big one", () -> 1.5e10)
                .add("Enabled", "boolean", "on or off", () -> Boolean.TRUE)
                .add("Disabled", "boolean", "off", () -> Boolean.FALSE)
                .add("Label", "java.lang.String", "a string", () -> "hello")
                .add("Numeric", "java.lang.String", "a number as text", () -> "17")
                .add("Nothing", "java.lang.String", "null", () -> null)
                .add("Total", "long", "a long", () -> 12345678901L)
                .add("Started", "java.util.Date", "a date", () -> new java.util.Date(1700000000000L))
                .add("Unit", "java.util.concurrent.TimeUnit", "an enum", () -> TimeUnit.SECONDS)
                .add("Custom", "PodkitTestApp$Custom", "an application class", Custom::new)
                .add("Array", "[J", "an array", () -> new long[] {1L, 2L}),
                new ObjectName("podkit.test:type=Simple,name=alpha"));

        CompositeType usageType = new CompositeType(
                "Usage", "memory-like usage", new String[] {"used", "max"},
                new String[] {"bytes used", "bytes max"},
                new OpenType<?>[] {SimpleType.LONG, SimpleType.LONG});
        CompositeData usage = new CompositeDataSupport(
                usageType, new String[] {"used", "max"}, new Object[] {100L, 200L});

        CompositeType kvRow = new CompositeType(
                "KV", "key and value", new String[] {"key", "value"},
                new String[] {"the key", "the value"},
                new OpenType<?>[] {SimpleType.STRING, SimpleType.LONG});
        TabularType kvType = new TabularType("KVTable", "a map", kvRow, new String[] {"key"});
        TabularDataSupport kv = new TabularDataSupport(kvType);
        kv.put(new CompositeDataSupport(kvRow, new String[] {"key", "value"}, new Object[] {"a", 1L}));
        kv.put(new CompositeDataSupport(kvRow, new String[] {"key", "value"}, new Object[] {"b", 2L}));

        CompositeType statRow = new CompositeType(
                "Stat", "cache statistics", new String[] {"cache", "hits", "misses"},
                new String[] {"cache name", "hit count", "miss count"},
                new OpenType<?>[] {SimpleType.STRING, SimpleType.INTEGER, SimpleType.INTEGER});
        TabularType statType = new TabularType("Stats", "per cache", statRow, new String[] {"cache"});
        TabularDataSupport stats = new TabularDataSupport(statType);
        stats.put(new CompositeDataSupport(
                statRow, new String[] {"cache", "hits", "misses"}, new Object[] {"users", 7, 3}));

        server.registerMBean(new Bean()
                .add("Usage", "javax.management.openmbean.CompositeData", "usage", () -> usage)
                .add("Map", "javax.management.openmbean.TabularData", "map", () -> kv)
                .add("Stats", "javax.management.openmbean.TabularData", "stats", () -> stats),
                new ObjectName("podkit.test:type=Structured"));

        server.registerMBean(new Bean().add("Value", "int", "dup", () -> 1),
                new ObjectName("podkit.test:type=Dup,name=a,scope=x"));
        server.registerMBean(new Bean().add("Value", "int", "dup", () -> 2),
                new ObjectName("podkit.test:type=Dup,name=b,scope=x"));
        server.registerMBean(new Bean().add("HeapUsedBytes", "long", "camel", () -> 5L),
                new ObjectName("podkit.test:type=Camel"));

        registerShapes(server);

        long slowMs = Long.getLong("podkit.slowMs", 0L);
        if (slowMs > 0) {
            server.registerMBean(new Bean().add("Value", "int", "slow", () -> {
                try {
                    Thread.sleep(slowMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return 1;
            }), new ObjectName("podkit.test:type=Slow"));
        }
        int extra = Integer.getInteger("podkit.extraBeans", 0);
        int attrs = Integer.getInteger("podkit.extraAttributes", 1);
        for (int i = 0; i < extra; i++) {
            final int n = i;
            Bean bean = new Bean();
            for (int a = 0; a < attrs; a++) {
                final int m = a;
                bean.add(a == 0 ? "Value" : "Value" + a, a % 3 == 2 ? "double" : "long", "extra",
                        a % 3 == 2 ? () -> n * 0.5 + m : () -> (long) n * 1000 + m);
            }
            server.registerMBean(bean, new ObjectName("podkit.extra:type=Extra,name=e" + i));
        }
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
