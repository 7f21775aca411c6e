"""Images listed in a CSV file, read with flow_from_dataframe (a Kaggle-style layout).

Modelled on the keras-preprocessing thread where flow_from_dataframe "ignores"
steps_per_epoch: the labels file names every image; the images sit in one folder.
"""
import pandas as pd
from tensorflow import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator

labels = pd.read_csv("train_labels.csv", dtype=str)
datagen = ImageDataGenerator(rescale=1 / 255.0, validation_split=0.25)
common = dict(directory="train_images", x_col="id", y_col="label", target_size=(32, 32),
              batch_size=20, class_mode="binary")
train = datagen.flow_from_dataframe(labels, subset="training", **common)
val = datagen.flow_from_dataframe(labels, subset="validation", **common)

model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3),
                          keras.layers.GlobalAveragePooling2D(),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(train, validation_data=val, epochs=2, verbose=2)
