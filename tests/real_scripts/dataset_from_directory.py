"""An image folder read with image_dataset_from_directory, split 80/20 with a seed.

The tf.data route of the TensorFlow image-classification tutorial, as scripts copy it:
both subsets from one folder, cached and prefetched.
"""
import tensorflow as tf

data_dir = "flowers"
common = dict(validation_split=0.2, seed=123, image_size=(32, 32), batch_size=16)
train_ds = tf.keras.utils.image_dataset_from_directory(data_dir, subset="training", **common)
val_ds = tf.keras.utils.image_dataset_from_directory(data_dir, subset="validation", **common)
classes = len(train_ds.class_names)
train_ds = train_ds.cache().shuffle(100).prefetch(tf.data.AUTOTUNE)
val_ds = val_ds.cache().prefetch(tf.data.AUTOTUNE)

model = tf.keras.Sequential([
    tf.keras.Input((32, 32, 3)),
    tf.keras.layers.Rescaling(1.0 / 255),
    tf.keras.layers.Conv2D(4, 3, activation="relu"),
    tf.keras.layers.GlobalAveragePooling2D(),
    tf.keras.layers.Dense(classes),
])
model.compile(optimizer="adam",
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(train_ds, validation_data=val_ds, epochs=2, verbose=2)
