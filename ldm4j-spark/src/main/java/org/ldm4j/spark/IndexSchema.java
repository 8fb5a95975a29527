package org.ldm4j.spark;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.ldm4j.batch.BatchRow;

/** The Parquet index: one row per sample, the columns of {@link BatchRow} (parameters as a JSON string). */
public final class IndexSchema {
    private IndexSchema() {}

    public static final StructType SCHEMA = new StructType(new StructField[] {
            DataTypes.createStructField("id", DataTypes.StringType, false),
            DataTypes.createStructField("index", DataTypes.IntegerType, false),
            DataTypes.createStructField("seed", DataTypes.LongType, false),
            DataTypes.createStructField("method", DataTypes.StringType, false),
            DataTypes.createStructField("prompt", DataTypes.StringType, false),
            DataTypes.createStructField("parameters", DataTypes.StringType, false),
            DataTypes.createStructField("image", DataTypes.StringType, true),
            DataTypes.createStructField("row_file", DataTypes.StringType, true),
            DataTypes.createStructField("status", DataTypes.StringType, false),
            DataTypes.createStructField("error", DataTypes.StringType, true),
            DataTypes.createStructField("reused", DataTypes.BooleanType, false),
            DataTypes.createStructField("generate_ms", DataTypes.LongType, false),
            DataTypes.createStructField("write_ms", DataTypes.LongType, false),
            DataTypes.createStructField("model_load_ms", DataTypes.LongType, false),
            DataTypes.createStructField("worker", DataTypes.StringType, true)});

    public static Row toRow(BatchRow r) {
        return RowFactory.create(r.id(), r.index(), r.seed(), r.method(), r.prompt(), r.parameters(), r.image(), r.rowFile(),
                r.status(), r.error(), r.reused(), r.generateMillis(), r.writeMillis(), r.modelLoadMillis(), r.worker());
    }
}
